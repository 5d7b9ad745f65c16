"""Focus, exposure and composition measures on digiKam's graded series and real photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.analysis.decode import decode
from engine.analysis.faces import detect_faces
from engine.analysis.quality import Quality, assess_quality, horizon_tilt, thirds_score

IMGQSORT = "digikam-testdata/core/tests/imgqsort/data"
GRADED = ["test", "test_blurred_3", "test_blurred_7", "test_overexposed_8", "test_underexposed_2"]


@pytest.fixture(scope="module")
def graded(samples_dir: Path) -> dict[str, Quality]:
    return {
        name: assess_quality(decode(samples_dir / IMGQSORT / f"{name}.jpg").rgb) for name in GRADED
    }


def _quality(samples_dir: Path, relative: str) -> Quality:
    rgb = decode(samples_dir / relative).rgb
    return assess_quality(rgb, detect_faces(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)))


def test_focus_ranks_the_sharp_original_above_every_blurred_version(graded):
    assert graded["test"].focus > graded["test_blurred_3"].focus > graded["test_blurred_7"].focus
    assert graded["test"].focus > 5 * graded["test_blurred_3"].focus


def test_blurred_versions_are_blurry_and_the_original_is_not(graded):
    assert not graded["test"].blurry
    assert graded["test"].focus_score > 0.9
    assert graded["test_blurred_3"].blurry
    assert graded["test_blurred_7"].blurry
    assert graded["test_blurred_7"].focus_score < graded["test_blurred_3"].focus_score < 0.5


def test_exposure_changes_do_not_read_as_blur(graded):
    assert not graded["test_overexposed_8"].blurry
    assert not graded["test_underexposed_2"].blurry


def test_exposure_flags_the_over_and_underexposed_versions_only(graded):
    assert graded["test_overexposed_8"].overexposed
    assert not graded["test_overexposed_8"].underexposed
    assert graded["test_underexposed_2"].underexposed
    assert not graded["test_underexposed_2"].overexposed
    for name in ("test", "test_blurred_3", "test_blurred_7"):
        assert not graded[name].overexposed
        assert not graded[name].underexposed
    assert graded["test_overexposed_8"].clipped_highlights > 0.3
    assert graded["test"].clipped_highlights < 0.01
    assert graded["test_underexposed_2"].brightness < 0.15 < 0.45 < graded["test"].brightness


@pytest.mark.parametrize(
    "relative",
    [
        "metadata-extractor-images/jpg/Canon PowerShot S330.jpg",
        "metadata-extractor-images/jpg/FujiFilm FinePix1400Zoom (1).jpg",
    ],
)
def test_real_blurry_photos_are_blurry(samples_dir, relative):
    assert _quality(samples_dir, relative).blurry


def test_real_black_frame_is_underexposed(samples_dir):
    quality = _quality(samples_dir, "exifr-fixtures/test/fixtures/canon-dslr.jpg")
    assert quality.underexposed
    assert quality.crushed_shadows > 0.8


@pytest.mark.parametrize(
    "relative",
    [
        "metadata-extractor-images/jpg/Apple iPhone 6.jpg",
        "metadata-extractor-images/jpg/Oppo R7 Plus.jpg",
        "exif-samples/jpg/hdr/canon_hdr_NO.jpg",
        "exiv2-testdata/test/data/FurnaceCreekInn.jpg",
    ],
)
def test_crisp_photos_are_sharp_and_well_exposed(samples_dir, relative):
    quality = _quality(samples_dir, relative)
    assert not quality.blurry
    assert not quality.overexposed
    assert not quality.underexposed


def test_portrait_focus_is_measured_on_the_face(samples_dir):
    quality = _quality(samples_dir, "metadata-extractor-images/jpg/Canon EOS 7D.jpg")
    assert quality.focus_on_faces
    assert not quality.blurry


def test_directional_smear_is_motion_blur_and_gaussian_blur_is_not(samples_dir):
    rgb = decode(samples_dir / "exif-samples/jpg/hdr/canon_hdr_NO.jpg").rgb
    smeared = assess_quality(cv2.filter2D(rgb, -1, np.ones((1, 25), np.float32) / 25))
    defocused = assess_quality(cv2.GaussianBlur(rgb, (0, 0), 4))
    assert smeared.blurry and smeared.motion_blur
    assert defocused.blurry and not defocused.motion_blur


def test_night_scene_with_lit_lamps_is_dark_but_not_underexposed():
    rng = np.random.default_rng(0)
    night = rng.integers(5, 30, (768, 1024, 3), dtype=np.uint8)
    for x in range(100, 1000, 150):
        night[300:340, x : x + 30] = 250
    quality = assess_quality(night)
    assert quality.brightness < 0.2
    assert not quality.underexposed


def test_snow_scene_is_bright_but_not_overexposed():
    rng = np.random.default_rng(0)
    snow = rng.integers(200, 245, (768, 1024, 3), dtype=np.uint8)
    quality = assess_quality(snow)
    assert quality.brightness > 0.8
    assert not quality.overexposed


def _horizon(angle_deg: float) -> np.ndarray:
    img = np.full((1200, 1600), 70, np.uint8)
    img[:600] = 200
    matrix = cv2.getRotationMatrix2D((800, 600), angle_deg, 1.0)
    return cv2.warpAffine(img, matrix, (1600, 1200))[200:968, 288:1312]


@pytest.mark.parametrize("angle", [0.0, 4.0, -3.0])
def test_horizon_tilt_reads_the_rotation_of_a_horizon(angle):
    tilt = horizon_tilt(_horizon(angle))
    assert tilt == pytest.approx(angle, abs=0.5)


def test_no_horizon_on_a_frame_without_long_lines():
    assert horizon_tilt(np.full((768, 1024), 128, np.uint8)) is None


def test_thirds_score_is_one_on_a_thirds_point_and_zero_in_the_centre():
    assert thirds_score((1 / 3, 2 / 3)) == pytest.approx(1.0)
    assert thirds_score((0.5, 0.5)) == pytest.approx(0.0)
    assert 0.0 < thirds_score((0.4, 0.4)) < 1.0
