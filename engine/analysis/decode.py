"""Decoding a photo once, small and upright (for analysis), or full size (for export).

Policies, chosen for a photographer who needs to know when a file is damaged:
- Size limit: images up to MAX_PIXELS (250 MP: large panoramas and medium-format files
  pass) are read. A bigger one fails with "image is 400 MP, larger than the 250 MP limit"
  before any pixel is decoded. JPEGs are decoded DCT-scaled (1/2 … 1/8), so analysis of a
  250 MP JPEG needs about 12 MB; other formats are decoded at full size first (about
  3 bytes per pixel, 750 MB at the limit). Pillow's own bomb limit is set to this limit
  too (it then refuses from twice the limit on, which we report the same way).
- Truncated files fail ("truncated JPEG: image data ends early …") instead of being
  decoded with a grey band: a half-copied card must be noticed and copied again, and a
  partial picture would get wrong focus and exposure scores.
- RAW: the embedded preview when its long edge is at least PREVIEW_MIN_EDGE, else a
  half-size LibRaw decode. Width and height of a RAW are LibRaw's output size, after
  orientation. Full-size RAW (export) is LibRaw's default development with the camera's
  white balance; if the sensor data cannot be decoded, the largest embedded preview.
- HEIF/HEIC: pillow-heif, which applies the file's rotation itself (`orientation`
  reports the value the file carried); AVIF: Pillow's own plugin, which reports the
  rotation as EXIF orientation for us to apply.
- Orientation 0, missing or invalid means 1. Paths are opened by Python (never
  cv2.imread), so non-ASCII names work on Windows.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
import rawpy
from PIL import Image, UnidentifiedImageError

from engine.analysis.formats import HEAD_BYTES, PhotoFiles, describe_unknown, detect_format
from engine.errors import PhotoError, UnreadablePhoto, UnsupportedPhoto

MAX_PIXELS = 250_000_000
PREVIEW_MIN_EDGE = 640

Image.init()  # registers every plugin before the first `formats=[...]` open
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
pillow_heif.register_heif_opener()

_PILLOW_FORMATS = {
    "jpeg": ["JPEG"],  # also yields MPO (a JPEG with extra frames)
    "png": ["PNG"],
    "tiff": ["TIFF"],
    "webp": ["WEBP"],
    "heif": ["HEIF", "AVIF"],
}
_FORMAT_NAMES = {
    "jpeg": "JPEG",
    "png": "PNG",
    "tiff": "TIFF",
    "webp": "WebP",
    "heif": "HEIF",
    "raw": "RAW",
}
_SOURCES = {"jpeg": "jpeg-draft", "heif": "heif"}
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# LibRaw's `flip` (0, 3, 5, 6) as an EXIF orientation.
_LIBRAW_FLIP = {0: 1, 3: 3, 5: 8, 6: 6}
_ORIENTATION_TAG = 0x0112


@dataclass(frozen=True, eq=False)
class Decoded:
    """Pixels for analysis: `rgb` is H×W×3 uint8, upright, long edge at most the requested.

    `width`/`height` are the full-size pixels after orientation; `orientation` is the
    EXIF value that was applied (1–8); `source` says how the pixels were obtained:
    "jpeg-draft", "raw-preview", "raw-half", "heif" or "pillow".
    """

    rgb: np.ndarray
    width: int
    height: int
    orientation: int
    source: str


def _probe(path: Path) -> str:
    """Check the file is there and not empty; return its format or raise UnsupportedPhoto."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except FileNotFoundError:
        raise UnreadablePhoto(f"file no longer exists: {path}") from None
    except OSError as err:
        raise UnreadablePhoto(f"cannot read {path.name}: {err.strerror or err}") from err
    if size == 0:
        raise UnreadablePhoto("empty file (0 bytes)")
    fmt = detect_format(head, path.suffix)
    if fmt is None:
        raise UnsupportedPhoto(f"not an image we read (looks like {describe_unknown(head)})")
    return fmt


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} MP"


def _first_line(err: BaseException) -> str:
    """One line of an exception's text (LibRaw's bytes messages unwrapped)."""
    text = (str(err).splitlines() or [type(err).__name__])[0][:160]
    if text.startswith(("b'", 'b"')) and text.endswith(text[1]):
        text = text[2:-1]
    return text or type(err).__name__


@contextmanager
def _decoder_errors(path: Path, fmt: str) -> Iterator[None]:
    """Turn whatever a decoder raises on a hostile file into one human line."""
    what = _FORMAT_NAMES[fmt]
    try:
        yield
    except PhotoError:
        raise
    except FileNotFoundError:
        raise UnreadablePhoto(f"file no longer exists: {path}") from None
    except Image.DecompressionBombError as err:
        limit = _megapixels(MAX_PIXELS)
        raise UnreadablePhoto(f"image is far larger than the {limit} limit") from err
    except UnidentifiedImageError as err:
        raise UnreadablePhoto(f"damaged {what}: the decoder cannot make sense of it") from err
    except rawpy.LibRawFileUnsupportedError as err:
        raise UnsupportedPhoto(
            "LibRaw cannot read this RAW file (unsupported camera, or not really a RAW file)"
        ) from err
    except Exception as err:  # hostile input may raise anything; the photo fails, not the worker
        detail = _first_line(err)
        if "truncated" in detail.lower() or isinstance(err, EOFError):
            size = path.stat().st_size if path.exists() else 0
            raise UnreadablePhoto(
                f"truncated {what}: image data ends early (file is {size:,} bytes)"
            ) from err
        raise UnreadablePhoto(f"damaged {what}: {detail}") from err


def _open_pillow(source: Path | io.BytesIO, fmt: str) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow warns from MAX_PIXELS on; we refuse those ourselves just below.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im = Image.open(source, formats=_PILLOW_FORMATS[fmt])
    pixels = im.width * im.height
    if pixels > MAX_PIXELS:
        im.close()
        raise UnreadablePhoto(
            f"image is {_megapixels(pixels)}, larger than the {_megapixels(MAX_PIXELS)} limit"
        )
    return im


def _orientations(im: Image.Image) -> tuple[int, int]:
    """(orientation the file carries, orientation still to apply to the pixels)."""
    if "original_orientation" in im.info:  # pillow-heif already rotated the pixels
        return _valid_orientation(im.info["original_orientation"]), 1
    try:
        value = _valid_orientation(im.getexif().get(_ORIENTATION_TAG))
    except Exception:  # a broken EXIF block must not cost the picture
        value = 1
    return value, value


def _valid_orientation(value: object) -> int:
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation >= 5 else size


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode.startswith("I;16") or im.mode == "I":
        grey = (np.asarray(im).astype(np.uint32) >> 8).clip(0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    return im if im.mode == "RGB" else im.convert("RGB")


def _reduce(im: Image.Image, long_edge: int) -> Image.Image:
    """Decode `im` to RGB with its long edge at most `long_edge`, DCT-scaled where possible."""
    scale = long_edge / max(im.size)
    if scale < 1:
        im.draft("RGB", (max(1, int(im.width * scale)), max(1, int(im.height * scale))))
    rgb = _to_rgb(im)
    rgb.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
    rgb.load()
    return rgb


def _transpose(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return im.transpose(method) if method is not None else im


def _open_raw(path: Path) -> rawpy.RawPy:
    # LibRaw opens narrow-character paths; on Windows a non-ASCII name must go as bytes.
    if os.name == "nt" and not str(path).isascii():
        return rawpy.imread(io.BytesIO(path.read_bytes()))
    return rawpy.imread(str(path))


def _raw_preview(raw: rawpy.RawPy) -> Image.Image | None:
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    if isinstance(thumb.data, bytes):  # ThumbFormat.JPEG
        return _open_pillow(io.BytesIO(thumb.data), "jpeg")
    return Image.fromarray(thumb.data)


def _raw_size(raw: rawpy.RawPy) -> tuple[tuple[int, int], int]:
    orientation = _LIBRAW_FLIP.get(raw.sizes.flip, 1)
    return _upright_size((raw.sizes.width, raw.sizes.height), orientation), orientation


def _decode_raw(path: Path, long_edge: int) -> Decoded:
    with _open_raw(path) as raw:
        (width, height), orientation = _raw_size(raw)
        try:
            preview = _raw_preview(raw)
        except Exception:  # a broken preview: the sensor data may still be fine
            preview = None
        if preview is not None and max(preview.size) >= PREVIEW_MIN_EDGE:
            small = _transpose(_reduce(preview, long_edge), orientation)
            source = "raw-preview"
        else:
            try:
                developed = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
            except rawpy.LibRawError as err:
                raise UnreadablePhoto(
                    "damaged RAW: the sensor data cannot be decoded and there is no usable "
                    f"embedded preview ({_first_line(err)})"
                ) from err
            small = _reduce(Image.fromarray(developed), long_edge)
            source = "raw-half"
    return Decoded(np.asarray(small), width, height, orientation, source)


def _decode_pillow(path: Path, fmt: str, long_edge: int) -> Decoded:
    with _open_pillow(path, fmt) as im:
        orientation, pending = _orientations(im)
        width, height = _upright_size(im.size, pending)
        small = _transpose(_reduce(im, long_edge), pending)
    return Decoded(np.asarray(small), width, height, orientation, _SOURCES.get(fmt, "pillow"))


def _decode_file(path: Path, long_edge: int) -> Decoded:
    fmt = _probe(path)
    with _decoder_errors(path, fmt):
        if fmt == "raw":
            return _decode_raw(path, long_edge)
        return _decode_pillow(path, fmt, long_edge)


def decode(files: PhotoFiles | Path, long_edge: int = 1024) -> Decoded:
    """Decode a photo for analysis: upright RGB, long edge at most `long_edge` (never upscaled).

    A RAW+JPEG pair decodes its JPEG; if that JPEG is damaged, its RAW.
    Raises UnsupportedPhoto (not a format we read) or UnreadablePhoto (damaged, vanished,
    too large), each with a one-line message.
    """
    if not isinstance(files, PhotoFiles):
        return _decode_file(Path(files), long_edge)
    try:
        return _decode_file(files.analysis_file, long_edge)
    except UnreadablePhoto:
        if files.raw is None or files.analysis_file == files.raw:
            raise
        return _decode_file(files.raw, long_edge)


def _exif_upright(im: Image.Image) -> bytes | None:
    """The image's EXIF with orientation 1, or None when it has none or it is unusable."""
    try:
        exif = im.getexif()
        if not exif:
            return None
        exif[_ORIENTATION_TAG] = 1
        return exif.tobytes()
    except Exception:  # corrupt EXIF is dropped rather than copied
        return None


def _read_full_raw(path: Path) -> Image.Image:
    with _open_raw(path) as raw:
        (width, height), orientation = _raw_size(raw)
        if width * height > MAX_PIXELS:
            raise UnreadablePhoto(
                f"image is {_megapixels(width * height)}, larger than the "
                f"{_megapixels(MAX_PIXELS)} limit"
            )
        try:
            return Image.fromarray(raw.postprocess(use_camera_wb=True, output_bps=8))
        except rawpy.LibRawError as err:
            failure = err
    # LibRaw refuses further calls on a handle whose development failed: open it again.
    with _open_raw(path) as raw:
        preview = _raw_preview(raw)
    if preview is None:
        raise failure
    return _transpose(_to_rgb(preview), orientation)


def read_full(path: Path) -> Image.Image:
    """Full-resolution upright RGB image for export.

    `info["exif"]` holds the source's EXIF with orientation reset to 1 (when it had any);
    `info["icc_profile"]` the source's ICC profile when the source was RGB (a CMYK or
    grey profile does not describe the converted pixels, so it is dropped).
    """
    path = Path(path)
    fmt = _probe(path)
    with _decoder_errors(path, fmt):
        if fmt == "raw":
            return _read_full_raw(path)
        with _open_pillow(path, fmt) as im:
            _, pending = _orientations(im)
            icc = im.info.get("icc_profile") if im.mode in ("RGB", "RGBA") else None
            exif = _exif_upright(im)
            full = _transpose(_to_rgb(im), pending)
            full.load()
        full.info = {}
        if icc:
            full.info["icc_profile"] = icc
        if exif:
            full.info["exif"] = exif
        return full
