"""EXIF values against metadata-extractor's dumps, GPS, capture time, and hostile EXIF."""

from __future__ import annotations

import io
import re
import struct
import time
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from engine.analysis import exif as exif_module
from engine.analysis.exif import ExifData, read_exif

# Values the dumps print that are not values (EXIF's "unknown date" placeholder); see
# test_disagreements_are_the_dumps_fault.
DUMP_FAULTS = {
    ("Nikon E900 (1).jpg", "datetime_original"),
    ("Olympus C4040Z.jpg", "datetime_original"),
}


def _number(value: object) -> float | None:
    """As /work/shared/tools/check_report.py reads numbers ("1/40", "4.3", 0.025)."""
    if value in (None, ""):
        return None
    try:
        return float(Fraction(str(value)))
    except (ValueError, ZeroDivisionError):
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None


def _dump_values(text: str) -> dict[str, str | None]:
    def tag(label: str) -> str | None:
        pattern = r"^\[Exif (IFD0|SubIFD) - 0x[0-9a-f]+\] " + re.escape(label) + r" = (.*)$"
        match = re.search(pattern, text, re.M)
        return match.group(2).strip() if match else None

    return {
        "make": tag("Make"),
        "model": tag("Model"),
        "datetime_original": tag("Date/Time Original"),
        "iso": tag("ISO Speed Ratings"),
        "f_number": (tag("F-Number") or "").replace("f/", "") or None,
        "exposure_time": (tag("Exposure Time") or "").replace(" sec", "") or None,
        "focal_length": (tag("Focal Length") or "").replace(" mm", "") or None,
    }


def _agrees(key: str, got: object, want: str) -> bool:
    """check_report.py's comparison, verbatim in behaviour."""
    if key in ("make", "model"):
        return got is not None and str(got).strip().lower() == want.strip().lower()
    if key == "datetime_original":
        g = re.sub(r"[-T:]", " ", str(got or ""))[:19].split()
        w = re.sub(r"[-T:]", " ", want)[:19].split()
        return g[:6] == w[:6]
    text = want.split()[0]
    a, b = _number(got), _number(text)
    places = len(text.split(".")[1]) if "." in text and "/" not in text else None
    return (
        a is not None
        and b is not None
        and (
            abs(a - b) <= 0.011 * max(abs(b), 1e-9) + 1e-6
            or (places is not None and abs(a - b) <= 0.5 * 10**-places + 1e-9)
        )
    )


def _compare_with_dumps(samples_dir: Path) -> tuple[int, list[tuple[str, str, object, str]]]:
    checked, disagreements = 0, []
    for dump in sorted(samples_dir.glob("metadata-extractor-images/*/metadata/java/*.txt")):
        name = dump.name[: -len(".txt")]
        row = read_exif(dump.parents[2] / name).to_dict()
        for key, want in _dump_values(dump.read_text(errors="replace")).items():
            if want is None or want in ("", "0"):
                continue
            checked += 1
            if not _agrees(key, row.get(key), want):
                disagreements.append((name, key, row.get(key), want))
    return checked, disagreements


def test_exif_agrees_with_metadata_extractor_dumps(samples_dir: Path) -> None:
    checked, disagreements = _compare_with_dumps(samples_dir)
    assert checked >= 400  # 78 dumps; check_report.py needs at least 100
    assert (checked - len(disagreements)) / checked >= 0.99, disagreements
    assert {(name, key) for name, key, _, _ in disagreements} <= DUMP_FAULTS


def test_disagreements_are_the_dumps_fault(samples_dir: Path) -> None:
    """Both dumps print DateTimeOriginal "0000:00:00 00:00:00": EXIF's placeholder for an
    unset clock, not a date; we report no capture time rather than year 0."""
    for name, _ in DUMP_FAULTS:
        dump = samples_dir / "metadata-extractor-images/jpg/metadata/java" / f"{name}.txt"
        assert "Date/Time Original = 0000:00:00 00:00:00" in dump.read_text(errors="replace")
        assert read_exif(dump.parents[2] / name).datetime_original is None


def test_typical_camera_values(samples_dir: Path) -> None:
    exif = read_exif(samples_dir / "metadata-extractor-images/jpg/Apple iPhone 6.jpg")
    assert (exif.make, exif.model) == ("Apple", "iPhone 6")
    assert exif.lens == "iPhone 6 back camera 4.15mm f/2.2"
    assert exif.exposure_time == pytest.approx(1 / 40)
    assert exif.f_number == pytest.approx(2.2)
    assert exif.iso == 32
    assert exif.focal_length == pytest.approx(4.15)
    assert (exif.exif_width, exif.exif_height) == (3264, 2448)
    assert exif.orientation == 1
    # Sub-seconds are part of the capture time; no offset recorded → naive local time.
    assert exif.datetime_original == datetime(2014, 9, 16, 14, 5, 12, 133000)
    assert exif.to_dict()["datetime_original"] == "2014-09-16T14:05:12.133000"
    assert exif.warning is None


def test_offset_time_makes_an_aware_capture_time(samples_dir: Path) -> None:
    exif = read_exif(samples_dir / "metadata-extractor-images/heic/exif-at-eof.heic")
    assert exif.model == "iPhone 11 Pro"
    assert exif.datetime_original == datetime(
        2020, 5, 4, 18, 39, 11, 644000, tzinfo=timezone(timedelta(hours=-4))
    )
    assert exif.to_dict()["datetime_original"].startswith("2020-05-04T18:39:11")
    assert exif.to_dict()["datetime_original"].endswith("-04:00")


@pytest.mark.parametrize(
    ("relative", "lat", "lon"),
    [
        # 43° 28' 2.814" N, 11° 53' 6.456" E
        ("exif-samples/jpg/gps/DSCN0010.jpg", 43.467448, 11.885127),
        # 51° 45' 44.67" N, 0° 19' 4.41" W: west is negative
        ("metadata-extractor-images/jpg/Apple iPhone 6.jpg", 51.762408, -0.317892),
    ],
)
def test_gps_in_signed_decimal_degrees(
    samples_dir: Path, relative: str, lat: float, lon: float
) -> None:
    exif = read_exif(samples_dir / relative)
    assert exif.gps_lat == pytest.approx(lat, abs=1e-6)
    assert exif.gps_lon == pytest.approx(lon, abs=1e-6)


@pytest.mark.parametrize(
    "relative",
    [
        "immich-test-assets/metadata/gps-position/empty_gps.jpg",
        "pillow-test-images/Tests/images/empty_gps_ifd.jpg",
    ],
)
def test_empty_gps_block_gives_no_position(samples_dir: Path, relative: str) -> None:
    exif = read_exif(samples_dir / relative)
    assert (exif.gps_lat, exif.gps_lon) == (None, None)


def test_webp_exif_is_found(samples_dir: Path) -> None:
    exif = read_exif(samples_dir / "metadata-extractor-images/webp/Nikon D1X.webp")
    assert (exif.make, exif.model) == ("NIKON CORPORATION", "NIKON D1X")
    assert exif.f_number == pytest.approx(4.8)


def test_raw_and_heic_exif(samples_dir: Path) -> None:
    nef = read_exif(samples_dir / "metadata-extractor-images/nef/Issue 247-1.nef")
    assert nef.model == "NIKON D70s"
    dng = read_exif(samples_dir / "photoprism-testdata/assets/examples/canon_eos_6d.dng")
    assert (dng.make, dng.model) == ("Canon", "Canon EOS 6D")
    heic = read_exif(samples_dir / "exif-samples/heic/mobile/iphone_13_pro_max.HEIC")
    assert heic.model == "iPhone 13 Pro Max" and heic.orientation == 6


def test_missing_and_unreadable_files_never_raise(samples_dir: Path, tmp_path: Path) -> None:
    gone = read_exif(tmp_path / "gone.jpg")
    assert gone.warning == f"file no longer exists: {tmp_path / 'gone.jpg'}"
    assert gone.make is None
    empty = read_exif(samples_dir / "photoprism-testdata/pkg/fs/testdata/empty.jpg")
    assert empty == ExifData(warning="no EXIF data")
    poc = read_exif(samples_dir / "exiv2-testdata/test/data/issue_1793_poc.heic")
    assert poc.warning is not None and poc.warning.startswith("unreadable EXIF")


def _jpeg_with_hostile_makernote() -> bytes:
    """A JPEG whose MakerNote claims 2^31 values: exifread alone would loop for hours."""
    ifd0_offset, exif_offset = 8, 8 + 2 + 2 * 12 + 4
    make = b"Canon\x00"
    make_offset = exif_offset + 2 + 12 + 4
    tiff = b"II*\x00" + struct.pack("<I", ifd0_offset)
    tiff += struct.pack("<H", 2)
    tiff += struct.pack("<HHII", 0x010F, 2, len(make), make_offset)
    tiff += struct.pack("<HHII", 0x8769, 4, 1, exif_offset)
    tiff += struct.pack("<I", 0)
    tiff += (
        struct.pack("<H", 1) + struct.pack("<HHII", 0x927C, 7, 0x7FFFFFFF, 8) + struct.pack("<I", 0)
    )
    tiff += make
    app1 = b"Exif\x00\x00" + tiff
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="JPEG")
    body = buffer.getvalue()
    return body[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + body[2:]


def test_hostile_makernote_count_costs_nothing(tmp_path: Path) -> None:
    photo = tmp_path / "hostile.jpg"
    photo.write_bytes(_jpeg_with_hostile_makernote())
    started = time.monotonic()
    exif = read_exif(photo)
    assert time.monotonic() - started < 1
    assert exif.make == "Canon" and exif.warning is None


def test_time_budget_stops_a_slow_read(samples_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exif_module, "TIME_LIMIT_S", 0.0)
    exif = read_exif(samples_dir / "metadata-extractor-images/jpg/Apple iPhone 6.jpg")
    assert exif == ExifData(warning="EXIF took longer than 0 s to read; skipped")


def test_slow_makernote_sample_reads_fast(samples_dir: Path) -> None:
    started = time.monotonic()
    exif = read_exif(samples_dir / "exif-py-extra/tests/resources/jpg/Sony_alpha_a58.JPG")
    assert time.monotonic() - started < 1
    assert exif.model == "SLT-A58"


@pytest.mark.parametrize(
    ("relative", "fired"),
    [
        ("exif-samples/jpg/Canon_40D.jpg", True),
        ("exif-samples/jpg/Nikon_D70.jpg", False),
        ("exif-orientation-examples/Landscape_1.jpg", None),
    ],
)
def test_flash_fired_is_bit_zero_of_the_flash_tag(
    samples_dir: Path, relative: str, fired: bool | None
) -> None:
    assert read_exif(samples_dir / relative).flash is fired
