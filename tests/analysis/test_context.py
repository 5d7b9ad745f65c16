"""Context tags, primary context and default preset."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import pytest

from engine.analysis.context import Context, classify, default_preset, exposure_value
from engine.analysis.decode import decode
from engine.analysis.exif import ExifData, read_exif
from engine.analysis.faces import Face, detect_faces
from engine.analysis.quality import Quality, assess_quality

NEUTRAL = Quality(
    focus=30000.0,
    focus_score=0.95,
    blurry=False,
    motion_blur=False,
    focus_on_faces=False,
    brightness=0.45,
    clipped_highlights=0.0,
    crushed_shadows=0.0,
    overexposed=False,
    underexposed=False,
    thirds_score=0.5,
    horizon_tilt_deg=None,
    subject_brightness=0.45,
    background_brightness=0.45,
)
BIG_FACE = Face((400, 200, 160, 160), True, True)


def _face(x: int) -> Face:
    return Face((x, 200, 60, 60), None, False)


def test_fast_shutter_on_a_long_lens_is_action():
    scene = classify(ExifData(exposure_time=1 / 2000, focal_length=400.0), NEUTRAL, ())
    assert scene.primary == "action"
    assert scene.preset == "Junmai Action"


def test_fast_shutter_on_a_normal_lens_is_not_action():
    scene = classify(ExifData(exposure_time=1 / 2000, focal_length=50.0), NEUTRAL, ())
    assert "action" not in scene.tags


def test_one_large_face_is_a_portrait():
    scene = classify(ExifData(), NEUTRAL, (BIG_FACE,))
    assert scene == Context("portrait", ("portrait",), "Junmai Portrait")


def test_three_faces_are_a_group():
    scene = classify(ExifData(), NEUTRAL, (_face(100), _face(300), _face(500)))
    assert scene.primary == "group"
    assert scene.preset == "Junmai Portrait"


def test_dark_long_exposure_with_lit_highlights_is_night():
    quality = replace(NEUTRAL, brightness=0.1, subject_brightness=0.1, background_brightness=0.1)
    scene = classify(ExifData(exposure_time=2.0, iso=800), quality, ())
    assert scene.primary == "night"
    assert "low_light" in scene.tags
    assert scene.preset == "Junmai Night"


def test_high_iso_at_normal_brightness_is_low_light():
    scene = classify(ExifData(exposure_time=1 / 60, iso=3200), NEUTRAL, ())
    assert scene.primary == "low_light"
    assert scene.preset == "Junmai Low Light"


def test_dark_face_against_a_bright_sky_is_backlit():
    quality = replace(NEUTRAL, subject_brightness=0.25, background_brightness=0.8)
    scene = classify(ExifData(), quality, (BIG_FACE,))
    assert scene.tags == ("portrait", "backlit")


def test_level_horizon_without_faces_is_landscape():
    scene = classify(ExifData(f_number=5.6), replace(NEUTRAL, horizon_tilt_deg=0.5), ())
    assert scene.primary == "landscape"
    assert scene.preset == "Junmai Landscape"


def test_nothing_special_is_general_with_the_neutral_preset():
    scene = classify(ExifData(), NEUTRAL, ())
    assert scene == Context("general", (), "Junmai Neutral")


@pytest.mark.parametrize(
    ("primary", "preset"),
    [(None, "Junmai Neutral"), ("group", "Junmai Portrait"), ("unknown", "Junmai Neutral")],
)
def test_default_preset(primary, preset):
    assert default_preset(primary) == preset


def _classify(samples_dir: Path, relative: str) -> Context:
    rgb = decode(samples_dir / relative).rgb
    found = detect_faces(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    return classify(read_exif(samples_dir / relative), assess_quality(rgb, found), found)


@pytest.mark.parametrize(
    ("relative", "primary"),
    [
        ("metadata-extractor-images/jpg/Canon EOS 7D.jpg", "portrait"),
        ("metadata-extractor-images/jpg/Canon PowerShot A560.jpg", "group"),
        ("digikam-testdata/core/tests/imgqsort/data/test.jpg", "landscape"),
        ("exiv2-testdata/test/data/FurnaceCreekInn.jpg", "landscape"),
    ],
)
def test_samples_get_their_context(samples_dir, relative, primary):
    assert _classify(samples_dir, relative).primary == primary


def test_exposure_value_of_a_sunny_day():
    assert exposure_value(ExifData(f_number=16.0, exposure_time=1 / 100, iso=100)) == pytest.approx(
        14.64, abs=0.01
    )
    assert exposure_value(ExifData(f_number=2.8)) is None
