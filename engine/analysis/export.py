"""Exporting a developed JPEG: full resolution, upright, the preset's basic adjustments applied.

Decisions:
- Source: the camera JPEG of a RAW+JPEG pair (the camera's own rendering, full size);
  a lone RAW is developed by LibRaw (camera white balance, sRGB) and falls back to its
  embedded preview when the sensor data is damaged.
- Colour: the source's ICC profile is kept and the pixels stay in its colour space (an
  Adobe RGB original exports as Adobe RGB, tagged); RAW exports are sRGB and tagged so.
- Metadata: the source's EXIF with orientation reset to 1 (pixels are rotated); for a
  RAW, the main fields from its EXIF. Rating and label go in as XMP, never crs:*
  settings (the pixels are already developed; Lightroom would apply them twice), plus
  junmai:JobId, which is how a repeated export knows the file at its name is its own.
- Adjustments are approximations of Lightroom's basic panel, not its algorithms:
  exposure and incremental white balance are gains in linear light; contrast, highlights,
  shadows, whites and blacks form one tone curve per channel (a lookup table, so a 24 MP
  photo costs little memory); clarity and texture add back detail from a blur; dehaze
  is folded into contrast, blacks and saturation; vibrance favours less saturated colours.
  Absolute Temperature/Tint are not applied (the as-shot white balance they are relative
  to is not known outside a RAW developer).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, TiffImagePlugin

from engine.analysis.decode import read_full
from engine.analysis.exif import ExifData, read_exif
from engine.analysis.formats import RAW_EXTENSIONS, PhotoFiles
from engine.analysis.xmp import XmpMetadata, merge_xmp, read_job_id, xmp_app1_packet
from engine.fsutil import as_output_error, atomic_path

_BAND_ROWS = 512
_MAX_EXIF = 65533  # one JPEG APP1 segment
_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def _effective(settings: Mapping[str, float]) -> dict[str, float]:
    """Settings scaled to −1…1 (exposure stays in stops), with Dehaze folded in."""
    s = {k: float(v) / (1 if k == "Exposure2012" else 100) for k, v in settings.items()}
    dehaze = s.pop("Dehaze", 0.0)
    s["Contrast2012"] = s.get("Contrast2012", 0.0) + 0.5 * dehaze
    s["Blacks2012"] = s.get("Blacks2012", 0.0) - 0.3 * dehaze
    s["Saturation"] = s.get("Saturation", 0.0) + 0.2 * dehaze
    return s


def _bump(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-(((x - centre) / width) ** 2))


def _white_balance_gains(s: Mapping[str, float]) -> np.ndarray:
    """R, G, B gains for IncrementalTemperature (warmer = more red, less blue) and
    IncrementalTint (magenta = less green)."""
    warm = 1 + 0.3 * abs(s.get("IncrementalTemperature", 0.0))
    red, blue = (warm, 1 / warm) if s.get("IncrementalTemperature", 0.0) >= 0 else (1 / warm, warm)
    magenta = 1 + 0.2 * abs(s.get("IncrementalTint", 0.0))
    green = 1 / magenta if s.get("IncrementalTint", 0.0) >= 0 else magenta
    return np.array([red, green, blue])


def _tone_luts(s: Mapping[str, float]) -> np.ndarray:
    """3×256 uint8 curves: exposure and white balance, then the tone sliders."""
    x = np.linspace(0.0, 1.0, 256)
    linear = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    gains = 2.0 ** s.get("Exposure2012", 0.0) * _white_balance_gains(s)
    luts = []
    for gain in gains:
        lin = np.clip(linear * gain, 0.0, 1.0)
        y = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
        smooth = y * y * (3 - 2 * y)
        y = y + s.get("Contrast2012", 0.0) * (smooth - y)
        y = y + 0.15 * s.get("Highlights2012", 0.0) * _bump(y, 0.75, 0.18)
        y = y + 0.15 * s.get("Shadows2012", 0.0) * _bump(y, 0.25, 0.18)
        y = y + 0.10 * s.get("Whites2012", 0.0) * _bump(y, 0.95, 0.10)
        y = y + 0.10 * s.get("Blacks2012", 0.0) * _bump(y, 0.05, 0.10)
        luts.append(np.clip(np.round(y * 255), 0, 255).astype(np.uint8))
    return np.stack(luts)


def _in_bands(rgb: np.ndarray, step: Callable[[np.ndarray, slice], np.ndarray]) -> None:
    """Run `step` on float32 bands of rows (bounded memory), writing uint8 back in place."""
    for top in range(0, rgb.shape[0], _BAND_ROWS):
        rows = slice(top, top + _BAND_ROWS)
        rgb[rows] = np.clip(step(rgb[rows].astype(np.float32), rows), 0, 255).astype(np.uint8)


def _add_detail(rgb: np.ndarray, amount: float, sigma: float) -> None:
    blurred = cv2.GaussianBlur(rgb, (0, 0), sigma)
    _in_bands(rgb, lambda band, rows: band + amount * (band - blurred[rows]))


def _colour(rgb: np.ndarray, saturation: float, vibrance: float) -> None:
    def step(band: np.ndarray, _rows: slice) -> np.ndarray:
        luma = (band @ _LUMA)[..., None]
        chroma = (band.max(axis=2) - band.min(axis=2))[..., None] / 255
        factor = (1 + saturation) * (1 + vibrance * (1 - chroma))
        return luma + (band - luma) * factor

    _in_bands(rgb, step)


def apply_adjustments(rgb: np.ndarray, settings: Mapping[str, float]) -> np.ndarray:
    """Apply crs-style basic settings (Lightroom units) to H×W×3 uint8 pixels; returns a new array."""
    s = _effective(settings)
    luts = _tone_luts(s)
    out = np.empty_like(rgb)
    for channel in range(3):
        out[..., channel] = luts[channel][rgb[..., channel]]
    long_edge = max(rgb.shape[:2])
    if s.get("Clarity2012", 0.0):
        _add_detail(out, 0.6 * s["Clarity2012"], max(2.0, long_edge / 150))
    if s.get("Texture", 0.0):
        _add_detail(out, 0.6 * s["Texture"], max(1.0, long_edge / 1500))
    if s.get("Saturation", 0.0) or s.get("Vibrance", 0.0):
        _colour(out, s.get("Saturation", 0.0), s.get("Vibrance", 0.0))
    return out


def _rational(value: float) -> TiffImagePlugin.IFDRational:
    fraction = Fraction(value).limit_denominator(100000)
    return TiffImagePlugin.IFDRational(fraction.numerator, fraction.denominator)


def _exif_from(data: ExifData) -> bytes:
    """EXIF for a developed RAW, from the fields we read from it."""
    exif = Image.Exif()
    exif[0x0112] = 1
    for tag, value in ((0x010F, data.make), (0x0110, data.model)):
        if value:
            exif[tag] = value
    sub = exif.get_ifd(0x8769)
    if data.datetime_original is not None:
        sub[0x9003] = data.datetime_original.strftime("%Y:%m:%d %H:%M:%S")
    if data.iso:
        sub[0x8827] = data.iso
    if data.lens:
        sub[0xA434] = data.lens
    for tag, number in (
        (0x829A, data.exposure_time),
        (0x829D, data.f_number),
        (0x920A, data.focal_length),
    ):
        if number:
            sub[tag] = _rational(number)
    return exif.tobytes()


def _target(dest_dir: Path, name: str, job_id: str | None) -> Path:
    """`name.jpg`, or `name (2).jpg`… when a file we did not write (other job id) is there."""
    for n in itertools.count(1):
        candidate = dest_dir / (f"{name}.jpg" if n == 1 else f"{name} ({n}).jpg")
        if not candidate.exists():
            return candidate
        if job_id is not None and read_job_id(candidate) == job_id:
            return candidate
    raise AssertionError("unreachable")


def export_jpeg(
    files: PhotoFiles,
    dest_dir: Path,
    name: str,
    *,
    adjustments: Mapping[str, float] | None = None,
    long_edge: int | None = None,
    quality: int = 92,
    xmp: XmpMetadata | None = None,
    job_id: str | None = None,
) -> Path:
    """Export `files` as `dest_dir/name.jpg` (see module doc); returns the path written.

    A repeated export with the same `job_id` replaces its own file; a file we did not
    write is never replaced (a " (2)" suffix is used). A folder that cannot be written
    raises OutputError (an OSError), so the caller can fall back to another folder.
    """
    source = files.analysis_file
    image = read_full(source)
    if source.suffix.lower() in RAW_EXTENSIONS:
        image.info["exif"] = _exif_from(read_exif(source))
        image.info["icc_profile"] = ImageCms.ImageCmsProfile(
            ImageCms.createProfile("sRGB")
        ).tobytes()
    if long_edge and max(image.size) > long_edge:
        image.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
    if adjustments:
        developed = Image.fromarray(apply_adjustments(np.asarray(image), adjustments))
        developed.info = image.info
        image = developed
    meta = dataclasses.replace(xmp or XmpMetadata(), crs=None, job_id=job_id)
    dest_dir = Path(dest_dir)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise as_output_error(err, dest_dir / f"{name}.jpg") from err
    exif = image.info.get("exif", b"")
    if len(exif) > _MAX_EXIF:  # a huge MakerNote: better a JPEG without EXIF than none
        exif = b""
    target = _target(dest_dir, name, job_id)
    with atomic_path(target) as tmp:
        image.save(
            tmp,
            format="JPEG",
            quality=quality,
            subsampling=0 if quality >= 90 else 2,
            exif=exif,
            icc_profile=image.info.get("icc_profile"),
            xmp=xmp_app1_packet(merge_xmp(None, meta)),
        )
    return target
