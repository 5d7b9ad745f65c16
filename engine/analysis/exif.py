"""Reading the EXIF fields a photographer cares about (camera, lens, capture time, exposure, GPS).

exifread runs with `details=False` (it then skips MakerNotes entirely, so a hostile
MakerNote count costs nothing), on at most READ_LIMIT bytes held in memory (so no field
can make it read more), and under a time budget (TIME_LIMIT_S) as a last guard. Nothing
here raises for a bad file: what can be read is returned, with a `warning` saying what
went wrong. A HEIC whose EXIF lies beyond READ_LIMIT reads as "no EXIF data".
"""

from __future__ import annotations

import io
import logging
import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import exifread
from PIL import Image

READ_LIMIT = 32 * 1024 * 1024
"""Bytes of a file handed to exifread; EXIF sits in the first few KB of JPEG, TIFF and RAW."""
TIME_LIMIT_S = 2.0

# exifread logs every oddity of every file at WARNING; the result's `warning` says enough.
logging.getLogger("exifread").setLevel(logging.ERROR)

_DATETIME = re.compile(r"^\s*(\d{4})[:\-](\d\d)[:\-](\d\d)[ T](\d\d):(\d\d):(\d\d)")
_OFFSET = re.compile(r"^\s*([+-])(\d\d):?(\d\d)\s*$")


@dataclass(frozen=True)
class ExifData:
    """EXIF values, None where absent or unusable. `datetime_original` is naive local time
    unless the file records its offset (OffsetTimeOriginal); it includes sub-seconds.
    `warning` is one line when the EXIF could not be read completely.
    """

    make: str | None = None
    model: str | None = None
    lens: str | None = None
    datetime_original: datetime | None = None
    exposure_time: float | None = None
    f_number: float | None = None
    iso: int | None = None
    focal_length: float | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    orientation: int | None = None
    exif_width: int | None = None
    exif_height: int | None = None
    flash: bool | None = None  # the flash fired (bit 0 of the Flash tag)
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the capture time as ISO 8601."""
        data = asdict(self)
        if self.datetime_original is not None:
            data["datetime_original"] = self.datetime_original.isoformat()
        return data


class _TimeBudgetExceeded(Exception):
    pass


class _BudgetedBuffer(io.BytesIO):
    """An in-memory file that stops exifread once its time budget is spent."""

    def __init__(self, data: bytes, deadline: float) -> None:
        super().__init__(data)
        self._deadline = deadline

    def read(self, size: int | None = -1, /) -> bytes:
        if time.monotonic() > self._deadline:
            raise _TimeBudgetExceeded
        return super().read(size)


def _text(tags: dict[str, Any], key: str) -> str | None:
    tag = tags.get(key)
    if tag is None:
        return None
    value = tag.values
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _numbers(tags: dict[str, Any], key: str) -> list[float]:
    tag = tags.get(key)
    values = getattr(tag, "values", None)
    if not isinstance(values, list):
        return []
    out: list[float] = []
    for value in values:
        try:
            out.append(float(value))
        except (TypeError, ValueError, ZeroDivisionError):
            return []
    return out


def _positive(tags: dict[str, Any], key: str) -> float | None:
    values = _numbers(tags, key)
    return values[0] if values and values[0] > 0 else None


def _integer(tags: dict[str, Any], key: str) -> int | None:
    value = _positive(tags, key)
    return int(value) if value is not None else None


def _iso(tags: dict[str, Any]) -> int | None:
    iso = _integer(tags, "EXIF ISOSpeedRatings")
    if iso == 65535:  # the 16-bit tag is saturated; EXIF 2.3 puts the real value here
        iso = _integer(tags, "EXIF RecommendedExposureIndex") or iso
    return iso


def _capture_time(tags: dict[str, Any]) -> datetime | None:
    for prefix in ("Original", "Digitized"):
        stamp = _text(tags, f"EXIF DateTime{prefix}")
        match = _DATETIME.match(stamp or "")
        if not match:
            continue
        try:
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            taken = datetime(year, month, day, hour, minute, second)
        except ValueError:  # "0000:00:00 00:00:00" and other impossible dates
            continue
        subsec = re.sub(r"\D", "", _text(tags, f"EXIF SubSecTime{prefix}") or "")
        if subsec:
            taken = taken.replace(microsecond=int(subsec[:6].ljust(6, "0")))
        offset = _OFFSET.match(_text(tags, f"EXIF OffsetTime{prefix}") or "")
        if offset:
            sign = -1 if offset.group(1) == "-" else 1
            delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
            if delta <= timedelta(hours=14):
                taken = taken.replace(tzinfo=timezone(sign * delta))
        return taken
    return None


def _coordinate(tags: dict[str, Any], axis: str, negative_ref: str, limit: float) -> float | None:
    parts = _numbers(tags, f"GPS GPS{axis}")
    ref = (_text(tags, f"GPS GPS{axis}Ref") or "").upper()[:1]
    if not parts or not ref:
        return None
    degrees = sum(part / 60**i for i, part in enumerate(parts[:3]))
    if not 0 <= degrees <= limit:
        return None
    return round(-degrees if ref == negative_ref else degrees, 7)


def _from_tags(tags: dict[str, Any]) -> ExifData:
    orientation = _integer(tags, "Image Orientation")
    lat = _coordinate(tags, "Latitude", "S", 90)
    lon = _coordinate(tags, "Longitude", "W", 180)
    if lat is None or lon is None:
        lat = lon = None
    return ExifData(
        make=_text(tags, "Image Make"),
        model=_text(tags, "Image Model"),
        lens=_text(tags, "EXIF LensModel"),
        datetime_original=_capture_time(tags),
        exposure_time=_positive(tags, "EXIF ExposureTime"),
        f_number=_positive(tags, "EXIF FNumber"),
        iso=_iso(tags),
        focal_length=_positive(tags, "EXIF FocalLength"),
        gps_lat=lat,
        gps_lon=lon,
        orientation=orientation if orientation is not None and orientation <= 8 else None,
        exif_width=_integer(tags, "EXIF ExifImageWidth"),
        exif_height=_integer(tags, "EXIF ExifImageLength"),
        flash=_flash_fired(tags),
    )


def _flash_fired(tags: dict[str, Any]) -> bool | None:
    values = _numbers(tags, "EXIF Flash")
    return bool(int(values[0]) & 1) if values else None


def _tiff_from_pillow(data: bytes) -> bytes | None:
    """The EXIF block as Pillow finds it, as a TIFF stream exifread can parse.

    exifread misreads some containers (WebP's EXIF chunk); Pillow's plugins locate it.
    """
    try:
        with Image.open(io.BytesIO(data)) as im:
            block = im.info.get("exif")
    except Exception:  # not something Pillow opens: nothing more to try
        return None
    if not isinstance(block, bytes) or not block:
        return None
    return block[6:] if block.startswith(b"Exif\x00\x00") else block


def _process(data: bytes, deadline: float) -> dict[str, Any]:
    tags: dict[str, Any] = exifread.process_file(
        _BudgetedBuffer(data, deadline), details=False, extract_thumbnail=False
    )
    return tags


def read_exif(path: Path) -> ExifData:
    """Read a photo's EXIF; never raises for a bad or missing file (see `warning`)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(READ_LIMIT)
    except FileNotFoundError:
        return ExifData(warning=f"file no longer exists: {path}")
    except OSError as err:
        return ExifData(warning=f"cannot read {Path(path).name}: {err.strerror or err}")
    deadline = time.monotonic() + TIME_LIMIT_S
    try:
        tags = _process(data, deadline)
        if not tags and (tiff := _tiff_from_pillow(data)) is not None:
            tags = _process(tiff, deadline)
    except _TimeBudgetExceeded:
        return ExifData(warning=f"EXIF took longer than {TIME_LIMIT_S:.0f} s to read; skipped")
    except Exception as err:  # hostile EXIF may raise anything; the photo itself may be fine
        detail = (str(err).splitlines() or [""])[0][:120]
        return ExifData(warning=f"unreadable EXIF ({type(err).__name__}: {detail})".strip())
    if not tags:
        return ExifData(warning="no EXIF data")
    return _from_tags(tags)
