"""Decoding real camera files once, small and upright, and failing clearly on bad ones."""

from __future__ import annotations

import io
import random
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.analysis.decode import Decoded, decode, read_full
from engine.analysis.exif import read_exif
from engine.analysis.formats import PhotoFiles
from engine.errors import PhotoError, UnreadablePhoto, UnsupportedPhoto

ORIENTATION = "exif-orientation-examples"


def small_grey(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).convert("L").resize(size), dtype=np.float32)


@pytest.mark.parametrize("kind", ["Landscape", "Portrait"])
def test_all_orientation_examples_come_out_upright(samples_dir: Path, kind: str) -> None:
    """Each of {kind}_0..8 must match the upright {kind}_1 and none of its mirror images."""
    folder = samples_dir / ORIENTATION
    expected_size = (1800, 1200) if kind == "Landscape" else (1200, 1800)
    reference = decode(folder / f"{kind}_1.jpg", long_edge=256)
    # The reference itself is upright: sky (bright) on top, ground (darker) below.
    top, bottom = np.array_split(reference.rgb.mean(axis=2), 2, axis=0)
    assert top.mean() > bottom.mean() + 20
    shape = (reference.rgb.shape[1], reference.rgb.shape[0])
    upright = small_grey(reference.rgb, shape)
    for value in range(9):
        decoded = decode(folder / f"{kind}_{value}.jpg", long_edge=256)
        assert (decoded.width, decoded.height) == expected_size, value
        assert decoded.orientation == (value or 1)
        assert decoded.rgb.shape == reference.rgb.shape
        grey = small_grey(decoded.rgb, shape)
        wrong = [np.fliplr(upright), np.flipud(upright), np.rot90(upright, 2)]
        error = np.abs(grey - upright).mean()
        assert error < 0.4 * min(np.abs(grey - w).mean() for w in wrong), value


def test_decode_is_small_uint8_rgb_and_dct_scaled(samples_dir: Path) -> None:
    decoded = decode(samples_dir / "exifr-fixtures/test/fixtures/canon-dslr.jpg")
    assert decoded.source == "jpeg-draft"
    assert (decoded.width, decoded.height) == (5184, 3456)
    assert decoded.rgb.shape == (683, 1024, 3) and decoded.rgb.dtype == np.uint8


def test_small_images_are_never_upscaled(samples_dir: Path) -> None:
    decoded = decode(samples_dir / "exif-samples/jpg/gps/DSCN0010.jpg")
    assert decoded.rgb.shape == (480, 640, 3)


def test_read_full_is_full_size_upright_with_orientation_reset(samples_dir: Path) -> None:
    image = read_full(samples_dir / ORIENTATION / "Portrait_6.jpg")
    assert image.size == (1200, 1800) and image.mode == "RGB"
    exif = Image.Exif()
    exif.load(image.info["exif"])
    assert exif[0x0112] == 1
    upright = decode(samples_dir / ORIENTATION / "Portrait_1.jpg", long_edge=128).rgb
    ours = np.asarray(image.resize((upright.shape[1], upright.shape[0])))
    assert np.abs(ours.astype(int) - upright.astype(int)).mean() < 12


# --- HEIF and RAW ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "size", "orientation"),
    [
        ("exif-samples/heic/IMG_5195.HEIC", (2566, 3313), 1),
        ("exif-samples/heic/mobile/iphone_13_pro_max.HEIC", (3024, 4032), 6),
        ("exif-samples/heic/mobile/HMD_Nokia_8.3_5G_hdr.heif", (4608, 3456), 1),
        ("metadata-extractor-images/heic/exif-at-eof.heic", (3024, 4032), 1),
        ("exif-py-extra/tests/resources/heic/spring_1440x960.heic", (1440, 960), 1),
        ("exif-samples/heic/samplefilehub.heif", (640, 426), 1),
        ("exif-py-extra/tests/resources/avif/mountains.avif", (1920, 1080), 1),
    ],
)
def test_heif_samples_decode_upright(
    samples_dir: Path, relative: str, size: tuple[int, int], orientation: int
) -> None:
    decoded = decode(samples_dir / relative)
    assert decoded.source == "heif"
    assert (decoded.width, decoded.height) == size
    assert decoded.orientation == orientation
    long_edge = min(1024, max(size))
    assert max(decoded.rgb.shape[:2]) == long_edge
    # Upright: the analysis image has the full image's aspect.
    assert (decoded.rgb.shape[1] > decoded.rgb.shape[0]) == (size[0] > size[1])


def test_wrong_extension_is_decoded_by_content(samples_dir: Path) -> None:
    decoded = decode(samples_dir / "photoprism-testdata/internal/photoprism/testdata/wrong.heic")
    assert decoded.source == "jpeg-draft" and (decoded.width, decoded.height) == (500, 500)
    png_named = decode(samples_dir / "photoprism-testdata/assets/examples/this-is-a-jpeg.png")
    assert png_named.source == "jpeg-draft"


@pytest.mark.parametrize(
    ("relative", "source", "size"),
    [
        ("photoprism-testdata/assets/examples/canon_eos_6d.dng", "raw-preview", (1224, 816)),
        ("metadata-extractor-images/nef/Issue 247-1.nef", "raw-preview", (1999, 3008)),
        ("metadata-extractor-images/nef/Issue 247-2.nef", "raw-preview", (1999, 3008)),
        (
            "exif-py-extra/tests/resources/raw/"
            "nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng",
            "raw-preview",
            (5392, 3592),
        ),
        ("exiftool-t-images/t/images/Panasonic.rw2", "raw-half", (3664, 2754)),
    ],
)
def test_readable_raws_decode(
    samples_dir: Path, relative: str, source: str, size: tuple[int, int]
) -> None:
    decoded = decode(samples_dir / relative)
    assert decoded.source == source
    assert (decoded.width, decoded.height) == size
    assert decoded.rgb.ndim == 3 and max(decoded.rgb.shape[:2]) >= 640
    if "max_overexposed" in relative:  # the test file is white by design
        assert decoded.rgb.mean() > 250
    else:
        assert decoded.rgb.std() > 5  # a picture, not a flat frame


def test_dng_develops_at_full_size(samples_dir: Path) -> None:
    image = read_full(samples_dir / "photoprism-testdata/assets/examples/canon_eos_6d.dng")
    assert image.size == (1224, 816)


@pytest.mark.parametrize(
    ("relative", "error", "message"),
    [
        ("exiftool-t-images/t/images/CanonRaw.cr2", UnsupportedPhoto, "LibRaw cannot read"),
        ("exiftool-t-images/t/images/Nikon.nef", UnreadablePhoto, "damaged RAW"),
        ("file-type-fixtures/fixture/fixture.cr3", UnreadablePhoto, "damaged RAW"),
    ],
)
def test_raw_stubs_fail_with_a_reason(
    samples_dir: Path, relative: str, error: type[PhotoError], message: str
) -> None:
    with pytest.raises(error, match=message):
        decode(samples_dir / relative)


def test_a_pair_decodes_its_jpeg_and_falls_back_to_the_raw(
    samples_dir: Path, tmp_path: Path, copy_sample
) -> None:
    raw = copy_sample("photoprism-testdata/assets/examples/canon_eos_6d.dng", "IMG_1.DNG")
    jpeg = copy_sample(f"{ORIENTATION}/Landscape_1.jpg", "IMG_1.JPG")
    pair = PhotoFiles(primary=raw, files=(raw, jpeg), raw=raw)
    assert decode(pair).source == "jpeg-draft"
    jpeg.write_bytes(jpeg.read_bytes()[:5000])
    assert decode(pair).source == "raw-preview"


# --- bad input ------------------------------------------------------------------------


def test_zero_byte_file_fails(samples_dir: Path) -> None:
    with pytest.raises(UnreadablePhoto, match=r"^empty file \(0 bytes\)$"):
        decode(samples_dir / "photoprism-testdata/pkg/fs/testdata/empty.jpg")


def test_truncated_jpeg_fails_clearly(samples_dir: Path, copy_sample) -> None:
    with pytest.raises(UnreadablePhoto, match=r"^truncated JPEG: image data ends early"):
        decode(samples_dir / "pillow-test-images/Tests/images/truncated_jpeg.jpg")
    cut = copy_sample(f"{ORIENTATION}/Landscape_3.jpg")
    cut.write_bytes(cut.read_bytes()[:200_000])
    with pytest.raises(UnreadablePhoto, match=r"truncated JPEG: .*\(file is 200,000 bytes\)"):
        decode(cut)


def test_vanished_file_fails(tmp_path: Path) -> None:
    gone = tmp_path / "IMG_0001.jpg"
    with pytest.raises(UnreadablePhoto, match=f"^file no longer exists: {gone}$"):
        decode(gone)


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"Invoice for the wedding shoot\nTotal: 1200 EUR\n", "a text file"),
        (b"<!DOCTYPE html>\n<html><body>404</body></html>", "an HTML page"),
    ],
)
def test_non_image_with_image_extension_is_unsupported(
    tmp_path: Path, content: bytes, looks_like: str
) -> None:
    fake = tmp_path / "IMG_0001.JPG"
    fake.write_bytes(content)
    with pytest.raises(
        UnsupportedPhoto, match=f"^not an image we read \\(looks like {looks_like}\\)$"
    ):
        decode(fake)


def test_unicode_and_spaces_in_names(copy_sample) -> None:
    photo = copy_sample(f"{ORIENTATION}/Landscape_6.jpg", "Hochzeit Müller 東京 1.jpg")
    decoded = decode(photo)
    assert (decoded.width, decoded.height) == (1800, 1200)
    assert read_exif(photo).orientation == 6
    assert read_full(photo).size == (1800, 1200)


def png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "grey").save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_huge_images_are_refused_before_decoding(tmp_path: Path) -> None:
    png = tmp_path / "pano.png"
    png.write_bytes(png_claiming(20000, 20000))
    with pytest.raises(UnreadablePhoto, match=r"^image is 400 MP, larger than the 250 MP limit$"):
        decode(png)
    jpeg = tmp_path / "pano.jpg"
    jpeg.write_bytes(jpeg_claiming(20000, 15000))
    started = time.monotonic()
    with pytest.raises(UnreadablePhoto, match=r"^image is 300 MP, larger than the 250 MP limit$"):
        decode(jpeg)
    assert time.monotonic() - started < 1
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_claiming(40000, 40000))
    with pytest.raises(UnreadablePhoto, match="larger than the 250 MP limit"):
        decode(bomb)


def test_corrupt_exif_does_not_cost_the_picture(manifest: list[tuple[Path, str]]) -> None:
    invalid = [p for p, category in manifest if category == "edge:invalid-exif"]
    assert len(invalid) == 7
    for path in invalid:
        assert isinstance(decode(path), Decoded)
        read_exif(path)  # never raises


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow narrates every bad TIFF tag
def test_edge_files_never_crash_or_hang(manifest: list[tuple[Path, str]]) -> None:
    """Every hostile sample (exiv2 PoCs, fuzzed EXIF, pillow edge files…) ends as a decoded
    picture or a PhotoError, quickly; the read_full path too."""
    edge = [p for p, category in manifest if category.startswith("edge:")]
    assert len(edge) >= 50
    outcomes: dict[str, str] = {}
    for path in edge:
        started = time.monotonic()
        for step in (decode, read_full, read_exif):
            try:
                step(path)
            except PhotoError as err:
                outcomes[path.name] = type(err).__name__
                assert str(err).strip() and "\n" not in str(err)
                break
        assert time.monotonic() - started < 5, path
    assert outcomes["exiv2-bug1247.jpg"] == "UnreadablePhoto"  # 17 bytes: truncated
    assert outcomes["issue_2160_poc.jpg"] == "UnsupportedPhoto"
    assert outcomes["empty.jpg"] == "UnreadablePhoto"
    assert "Sony_alpha_a58.JPG" not in outcomes


def test_fuzzed_jpegs_fail_as_photo_errors(samples_dir: Path, tmp_path: Path) -> None:
    original = (samples_dir / "exif-samples/jpg/gps/DSCN0010.jpg").read_bytes()
    rng = random.Random(20261201)
    for n in range(40):
        data = bytearray(original)
        for _ in range(rng.randint(1, 40)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if n % 4 == 0:
            data = data[: rng.randrange(2, len(data))]
        fuzzed = tmp_path / f"fuzz_{n}.jpg"
        fuzzed.write_bytes(bytes(data))
        started = time.monotonic()
        try:
            decoded = decode(fuzzed)
            assert decoded.rgb.dtype == np.uint8
        except PhotoError as err:
            assert str(err)
        exif = read_exif(fuzzed)
        assert exif.warning is None or exif.warning
        assert time.monotonic() - started < 3
