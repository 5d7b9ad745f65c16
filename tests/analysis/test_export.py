"""Exported JPEGs, re-read with Pillow: upright, right size, metadata carried, named safely."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from engine.analysis.decode import decode
from engine.analysis.export import apply_adjustments, export_jpeg
from engine.analysis.formats import PhotoFiles
from engine.analysis.thumbnail import write_thumbnail
from engine.analysis.xmp import NS, XmpMetadata
from engine.errors import PhotoError
from engine.fsutil import TEMP_SUFFIX, OutputError

XMP = f"{{{NS['xmp']}}}"


def single(samples_dir: Path, relative: str) -> PhotoFiles:
    return PhotoFiles.single(samples_dir / relative)


def xmp_description(image: Image.Image) -> ET.Element:
    found = ET.fromstring(image.info["xmp"]).find(f".//{{{NS['rdf']}}}Description")
    assert found is not None
    return found


def test_export_is_upright_with_metadata_and_no_develop_settings(
    samples_dir: Path, tmp_path: Path
) -> None:
    files = single(samples_dir, "exif-samples/jpg/hdr/canon_hdr_NO.jpg")  # stored sideways (6)
    meta = XmpMetadata(rating=4, label="Yellow", crs={"Exposure2012": 1.0})
    out = export_jpeg(files, tmp_path, "canon_hdr_NO", xmp=meta, job_id="17")
    assert out == tmp_path / "canon_hdr_NO.jpg"
    with Image.open(out) as image:
        assert image.format == "JPEG" and image.size == (1536, 2048)
        exif = image.getexif()
        assert exif[0x0112] == 1 and exif[0x010F] == "Canon"
        assert exif.get_ifd(0x8769)[0x9003] == "2015:02:09 22:47:44"  # DateTimeOriginal
        desc = xmp_description(image)
        packet = image.info["xmp"]
        exported = np.asarray(image.convert("L").resize((96, 128)), dtype=np.float32)
    assert desc.get(f"{XMP}Rating") == "4" and desc.get(f"{XMP}Label") == "Yellow"
    assert desc.get(f"{{{NS['junmai']}}}JobId") == "17"
    assert b"camera-raw-settings" not in packet  # pixels are developed: no crs
    analysed = decode(files, long_edge=128).rgb  # upright analysis pixels
    reference = np.asarray(
        Image.fromarray(analysed).convert("L").resize((96, 128)), dtype=np.float32
    )
    assert np.abs(exported - reference).mean() < 6
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def test_orientation_example_exports_upright(samples_dir: Path, tmp_path: Path) -> None:
    out = export_jpeg(
        single(samples_dir, "exif-orientation-examples/Portrait_7.jpg"), tmp_path, "p7"
    )
    upright = decode(samples_dir / "exif-orientation-examples/Portrait_1.jpg", long_edge=180).rgb
    with Image.open(out) as image:
        assert image.size == (1200, 1800) and image.getexif().get(0x0112, 1) == 1
        ours = np.asarray(image.resize((upright.shape[1], upright.shape[0])), dtype=np.float32)
    assert np.abs(ours - upright).mean() < 12


def test_icc_profile_is_kept_and_long_edge_applied(samples_dir: Path, tmp_path: Path) -> None:
    source = samples_dir / "pillow-test-images/Tests/images/icc_profile_big.jpg"
    out = export_jpeg(PhotoFiles.single(source), tmp_path, "icc", long_edge=200, quality=80)
    with Image.open(source) as original, Image.open(out) as image:
        assert image.info["icc_profile"] == original.info["icc_profile"]
        assert image.size == (200, 118)


def test_raw_export_is_developed_srgb_with_camera_exif(samples_dir: Path, tmp_path: Path) -> None:
    files = single(samples_dir, "photoprism-testdata/assets/examples/canon_eos_6d.dng")
    out = export_jpeg(files, tmp_path, "IMG_6D", xmp=XmpMetadata(rating=2), job_id="9")
    with Image.open(out) as image:
        assert image.size == (1224, 816)
        profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
        assert "sRGB" in ImageCms.getProfileDescription(profile)
        exif = image.getexif()
        assert (exif[0x010F], exif[0x0110], exif[0x0112]) == ("Canon", "Canon EOS 6D", 1)
        assert xmp_description(image).get(f"{XMP}Rating") == "2"


def test_pair_exports_the_camera_jpeg(samples_dir: Path, tmp_path: Path, copy_sample) -> None:
    raw = copy_sample("photoprism-testdata/assets/examples/canon_eos_6d.dng", "src/IMG_1.DNG")
    jpeg = copy_sample("exif-orientation-examples/Landscape_1.jpg", "src/IMG_1.JPG")
    out = export_jpeg(PhotoFiles(raw, (raw, jpeg), raw), tmp_path / "out", "IMG_1")
    with Image.open(out) as image:
        assert image.size == (1800, 1200)


def test_repeated_export_replaces_its_own_file_only(samples_dir: Path, tmp_path: Path) -> None:
    files = single(samples_dir, "exif-samples/jpg/gps/DSCN0010.jpg")
    first = export_jpeg(files, tmp_path, "DSCN0010", job_id="5")
    again = export_jpeg(files, tmp_path, "DSCN0010", job_id="5")
    assert first == again == tmp_path / "DSCN0010.jpg"
    other = export_jpeg(files, tmp_path, "DSCN0010", job_id="6")
    assert other == tmp_path / "DSCN0010 (2).jpg"
    foreign = tmp_path / "Holiday.jpg"
    foreign.write_bytes(b"the photographer's own file")
    assert export_jpeg(files, tmp_path, "Holiday", job_id="7") == tmp_path / "Holiday (2).jpg"
    assert foreign.read_bytes() == b"the photographer's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "DSCN0010 (2).jpg",
        "DSCN0010.jpg",
        "Holiday (2).jpg",
        "Holiday.jpg",
    ]


def test_unwritable_export_folder_is_an_os_error(samples_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "Junmai Exports"
    blocker.write_bytes(b"a file where the folder should be")
    files = single(samples_dir, "exif-samples/jpg/gps/DSCN0010.jpg")
    with pytest.raises(OutputError) as caught:
        export_jpeg(files, blocker / "sub", "x", job_id="1")
    assert isinstance(caught.value, OSError) and isinstance(caught.value, PhotoError)
    assert "Junmai Exports" in str(caught.value)


def test_neutral_settings_change_nothing(samples_dir: Path) -> None:
    rgb = decode(samples_dir / "exif-samples/jpg/gps/DSCN0010.jpg").rgb
    zeros = {"Exposure2012": 0, "Contrast2012": 0, "Shadows2012": 0, "Clarity2012": 0}
    assert np.array_equal(apply_adjustments(rgb, zeros), rgb)
    assert np.array_equal(apply_adjustments(rgb, {}), rgb)


def test_adjustments_move_the_right_way(samples_dir: Path) -> None:
    rgb = decode(samples_dir / "exif-samples/jpg/gps/DSCN0010.jpg").rgb
    brighter = apply_adjustments(rgb, {"Exposure2012": 1.0})
    assert brighter.mean() > rgb.mean() + 20
    grey = apply_adjustments(rgb, {"Saturation": -100}).astype(int)
    assert np.abs(grey[..., 0] - grey[..., 2]).max() <= 2
    warmer = apply_adjustments(rgb, {"IncrementalTemperature": 50})
    assert warmer[..., 0].mean() > rgb[..., 0].mean() and warmer[..., 2].mean() < rgb[..., 2].mean()
    punchier = apply_adjustments(rgb, {"Contrast2012": 60})
    assert punchier.std() > rgb.std()
    recovered = apply_adjustments(rgb, {"Highlights2012": -100})
    bright = rgb.mean(axis=2) > 200
    assert recovered[bright].mean() < rgb[bright].mean()
    crisper = apply_adjustments(rgb, {"Clarity2012": 80})
    assert (
        np.abs(np.diff(crisper.astype(int), axis=1)).mean()
        > np.abs(np.diff(rgb.astype(int), axis=1)).mean()
    )


def test_thumbnail_is_small_and_atomic(samples_dir: Path, tmp_path: Path) -> None:
    rgb = decode(samples_dir / "exif-orientation-examples/Portrait_5.jpg").rgb
    dest = write_thumbnail(rgb, tmp_path / "thumb.jpg")
    with Image.open(dest) as image:
        assert image.format == "JPEG" and image.size == (213, 320)
    assert [p.name for p in tmp_path.iterdir()] == ["thumb.jpg"]
