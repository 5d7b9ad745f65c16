"""The overall score (1.0–5.0), star rating, colour label and one-line reason of a photo.

A documented heuristic, not a trained model. Four parts, each 0–1:
- sharpness = `focus_score`;
- exposure = 1 − 3 × (clipped highlights above 2 %) − 1.5 × (crushed shadows above 5 %)
  − 2 × (brightness farther than 0.25 from 0.45), at least 0; the brightness term is
  dropped for night and low-light scenes, which are meant to be dark;
- composition = 0.6 × `thirds_score` + 0.4 × level, level = 1 up to 1° of horizon tilt,
  falling to 0 at 5° (1 when no horizon was found);
- faces = 1 when every face checked has open eyes, 0.4 when eyes may be closed, 0.75 with
  no face or none large enough to check (neutral).
score = 1 + 4 × (0.45 sharpness + 0.30 exposure + 0.10 composition + 0.15 faces), then
capped: a blurry photo at BLURRY_CAP (2.4), an over- or underexposed one at
EXPOSURE_CAP (2.9), so neither reaches the queue's auto-select (3.5).
rating = the score rounded half up (1–5 stars).
label: "Red" (reject) when blurry or the score is under REJECT_BELOW (2.0); else
"Yellow" (needs review) when a face's eyes may be closed; else None.
On digiKam's series: test.jpg about 4.7, the over/underexposed versions 2.9 or less, the
blurred ones 2.4 or less.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from engine.analysis.context import Context
from engine.analysis.faces import Face
from engine.analysis.quality import Quality

WEIGHTS = {"sharpness": 0.45, "exposure": 0.30, "composition": 0.10, "faces": 0.15}
BLURRY_CAP = 2.4
EXPOSURE_CAP = 2.9
REJECT_BELOW = 2.0
SHARP_WORDS = ((0.8, "sharp"), (0.5, "slightly soft"))
CLIPPED_WORTH_SAYING = 0.05
TILT_WORTH_SAYING = 2.0
DARK_CONTEXTS = frozenset({"night", "low_light"})


@dataclass(frozen=True)
class Verdict:
    """The overall judgement of one photo; `reason` is one human line."""

    score: float
    rating: int
    label: str | None
    needs_review: bool
    reason: str


def _exposure_part(quality: Quality, dark_scene: bool) -> float:
    penalty = 3 * max(0.0, quality.clipped_highlights - 0.02)
    penalty += 1.5 * max(0.0, quality.crushed_shadows - 0.05)
    if not dark_scene:
        penalty += 2 * max(0.0, abs(quality.brightness - 0.45) - 0.25)
    return max(0.0, 1.0 - penalty)


def _composition_part(quality: Quality) -> float:
    tilt = abs(quality.horizon_tilt_deg or 0.0)
    level = min(1.0, max(0.0, 1.0 - (tilt - 1.0) / 4.0))
    return 0.6 * quality.thirds_score + 0.4 * level


def _faces_part(faces: Sequence[Face]) -> float:
    checked = [f for f in faces if f.eyes_checked]
    if not checked:
        return 0.75
    return 0.4 if any(f.eyes_closed for f in checked) else 1.0


def _reason(quality: Quality, faces: Sequence[Face]) -> str:
    if quality.blurry:
        parts = ["blurry (motion)" if quality.motion_blur else "blurry"]
    else:
        parts = [next((w for t, w in SHARP_WORDS if quality.focus_score >= t), "soft")]
    if quality.overexposed:
        parts.append("overexposed")
    elif quality.underexposed:
        parts.append("underexposed")
    elif quality.clipped_highlights >= CLIPPED_WORTH_SAYING:
        parts.append("highlights clipped")
    else:
        parts.append("well exposed")
    if faces:
        parts.append(f"{len(faces)} face{'s' if len(faces) > 1 else ''}")
        checked = [f for f in faces if f.eyes_checked]
        if any(f.eyes_closed for f in checked):
            parts.append("eyes may be closed")
        elif checked:
            parts.append("eyes open")
    tilt = quality.horizon_tilt_deg
    if tilt is not None and abs(tilt) >= TILT_WORTH_SAYING:
        parts.append(f"horizon tilted {abs(tilt):.1f}°")
    return ", ".join(parts)


def overall(quality: Quality, faces: Sequence[Face], context: Context | None = None) -> Verdict:
    """Score, rating, label and reason of a photo from its quality, faces and context."""
    dark_scene = context is not None and context.primary in DARK_CONTEXTS
    parts = {
        "sharpness": quality.focus_score,
        "exposure": _exposure_part(quality, dark_scene),
        "composition": _composition_part(quality),
        "faces": _faces_part(faces),
    }
    score = 1.0 + 4.0 * sum(WEIGHTS[name] * value for name, value in parts.items())
    if quality.blurry:
        score = min(score, BLURRY_CAP)
    if quality.overexposed or quality.underexposed:
        score = min(score, EXPOSURE_CAP)
    score = round(score, 2)
    needs_review = any(f.eyes_closed for f in faces)
    if quality.blurry or score < REJECT_BELOW:
        label: str | None = "Red"
    elif needs_review:
        label = "Yellow"
    else:
        label = None
    return Verdict(
        score=score,
        rating=min(5, max(1, math.floor(score + 0.5))),
        label=label,
        needs_review=needs_review,
        reason=_reason(quality, faces),
    )
