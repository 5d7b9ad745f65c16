"""Overall score, rating, label and reason."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_context import NEUTRAL

from engine.analysis.context import Context
from engine.analysis.decode import decode
from engine.analysis.faces import Face
from engine.analysis.quality import assess_quality
from engine.analysis.score import Verdict, overall

IMGQSORT = "digikam-testdata/core/tests/imgqsort/data"
VARIANTS = ["test_blurred_3", "test_blurred_7", "test_overexposed_8", "test_underexposed_2"]


@pytest.fixture(scope="module")
def verdicts(samples_dir: Path) -> dict[str, Verdict]:
    return {
        name: overall(assess_quality(decode(samples_dir / IMGQSORT / f"{name}.jpg").rgb), ())
        for name in ["test", *VARIANTS]
    }


def test_sharp_original_is_auto_selected_and_high_priority(verdicts):
    assert verdicts["test"].score >= 4.5
    assert verdicts["test"].rating == 5
    assert verdicts["test"].label is None
    assert verdicts["test"].reason == "sharp, well exposed"


@pytest.mark.parametrize("name", VARIANTS)
def test_every_degraded_version_scores_well_below_the_original(verdicts, name):
    assert verdicts[name].score <= verdicts["test"].score - 1.5
    assert verdicts[name].score < 3.5


def test_blurred_versions_are_rejected(verdicts):
    for name in ("test_blurred_3", "test_blurred_7"):
        assert verdicts[name].label == "Red"
        assert verdicts[name].reason.startswith("blurry")
        assert verdicts[name].rating <= 2


def test_exposure_failures_are_named(verdicts):
    assert "overexposed" in verdicts["test_overexposed_8"].reason
    assert "underexposed" in verdicts["test_underexposed_2"].reason


def test_open_eyes_read_in_the_reason():
    faces = (Face((100, 100, 120, 120), True, True), Face((400, 100, 120, 120), True, True))
    verdict = overall(NEUTRAL, faces)
    assert verdict.reason == "sharp, well exposed, 2 faces, eyes open"
    assert verdict.label is None
    assert not verdict.needs_review


def test_unsure_eyes_need_review_with_a_yellow_label():
    faces = (Face((100, 100, 120, 120), None, True),)
    verdict = overall(NEUTRAL, faces)
    assert verdict.needs_review
    assert verdict.label == "Yellow"
    assert verdict.reason == "sharp, well exposed, 1 face, eyes may be closed"
    assert verdict.score < overall(NEUTRAL, (Face((100, 100, 120, 120), True, True),)).score


def test_motion_blur_is_named_and_rejected():
    quality = replace(NEUTRAL, focus=900.0, focus_score=0.02, blurry=True, motion_blur=True)
    verdict = overall(quality, ())
    assert verdict.label == "Red"
    assert verdict.reason == "blurry (motion), well exposed"


def test_tilted_horizon_is_named_and_costs_a_little():
    tilted = overall(replace(NEUTRAL, horizon_tilt_deg=-4.0), ())
    assert tilted.reason == "sharp, well exposed, horizon tilted 4.0°"
    assert tilted.score < overall(NEUTRAL, ()).score


def test_dark_night_scene_is_not_penalised_for_being_dark():
    dark = replace(NEUTRAL, brightness=0.08)
    night = Context("night", ("night",), "Junmai Night")
    assert overall(dark, (), night).score > overall(dark, ()).score


def test_rating_is_the_rounded_score_within_one_to_five():
    worst = replace(NEUTRAL, focus_score=0.0, blurry=True, clipped_highlights=0.5, overexposed=True)
    assert overall(worst, ()).rating >= 1
    best = overall(replace(NEUTRAL, thirds_score=1.0), ())
    assert 1.0 <= best.score <= 5.0
    assert best.rating == int(best.score + 0.5)
