"""Focus, exposure and composition of one photo, measured on its analysis image.

Every measure is taken on the upright analysis image (long edge about 1024 px; smaller
originals are measured as they are), so a threshold means the same on every camera.

Focus
    `focus` is the variance of the Laplacian (OpenCV's 3×3 aperture) on the subject. The
    subject is the eye band (20–55 % of the box height) of the faces at least
    FOCUS_FACE_MIN (64 px) wide when there are any (the sharpest face counts: the one the
    photographer focused on), else the most detailed FOCUS_TILE_SHARE (15 %) of the 32 px
    tiles. Skin is smoother than a frame's most detailed tiles: on the samples' faces the
    eye band has about a third of the frame's tile value, so a face's variance is
    multiplied by FACE_FOCUS_GAIN (3) to share one scale. The grey image is first
    stretched so its 1st–99th percentiles span 0–255 (gain at most 8×), so a dark or
    flat-lit frame is not mistaken for a soft one. Larger is sharper, no ceiling: about
    20,000–150,000 on crisp files, 5,000–10,000 on soft early-2000s compacts, under 3,000
    on visibly blurred frames.
    `blurry` = focus < FOCUS_BLURRY (6,500). `focus_score` = 1 / (1 + (FOCUS_BLURRY /
    focus) ** FOCUS_SLOPE), a logistic on log(focus): 0.5 at the blurry line, 0.8 at
    twice it, 0.94 at four times. Set on digiKam's graded series (test.jpg about 36,000,
    blurred_3 about 5,800, blurred_7 about 400) and the samples' real photos: blurred_3 is
    as soft as the softest compact-camera files, so a few of those (Ricoh RDC-5300,
    Canon S230, …) are flagged blurry too, as they look at this size.
    `motion_blur`: blurry, and the gradients of the subject tiles point mostly one way
    (structure-tensor anisotropy (λ1 − λ2) / (λ1 + λ2) ≥ MOTION_ANISOTROPY): a shake or a
    moving subject smears along one direction, defocus in all.

Exposure (luminance Y = 0.299 R + 0.587 G + 0.114 B)
    `brightness` = mean Y / 255; `clipped_highlights` = share of pixels with Y ≥ 250;
    `crushed_shadows` = share with Y ≤ 5. `subject_brightness` / `background_brightness`:
    mean Y / 255 inside the face boxes and outside them; without faces, the central
    half of the frame (half the width, half the height) and the rest. Context reads
    them to tell a backlit subject.
    `overexposed`: clipped_highlights ≥ CLIP_LIMIT (10 % of the frame burnt white) and the
    frame is bright overall (brightness ≥ BRIGHT_LIMIT, 0.6). A blown window behind a
    well-lit group clips but keeps the mean down, and is not flagged. A snow or beach scene is bright but keeps
    its detail, so brightness alone never flags; a sun or lamp in a normal frame clips
    little and does not flag either.
    `underexposed`: brightness < DARK_LIMIT (0.2) and the brightest 0.5 % of the frame is
    below HIGHLIGHT_LIMIT (0.5 of full scale), i.e. the whole histogram sits low. A night
    scene or a dark room with lamps or lit windows reaches the highlights and is not
    flagged, however dark its mean.

Composition
    `thirds_score`: the subject point (area-weighted centre of the faces, else the
    detail-weighted centre of the subject tiles) against the nearest rule-of-thirds point,
    in image-normalised coordinates: 1 on a thirds point, falling linearly to 0 at the
    distance from a thirds point to the centre (a centred subject scores 0).
    `horizon_tilt_deg`: the strongest straight line within 15° of horizontal (Canny edges,
    then a Hough transform searched only between 75° and 105°, on the image reduced to
    HORIZON_EDGE, 512 px) that collects edge pixels along at least a third of the width;
    its angle in degrees, positive when it rises to the right (rotate the photo clockwise
    by that much to level it). None when there is no such line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from engine.analysis.faces import Face

FOCUS_TILE = 32
FOCUS_TILE_SHARE = 0.15
FOCUS_BLURRY = 6500.0
FOCUS_SLOPE = 2.0
FOCUS_FACE_MIN = 64
FACE_FOCUS_GAIN = 3.0
MOTION_ANISOTROPY = 0.6
CLIPPED_LEVEL = 250
CRUSHED_LEVEL = 5
CLIP_LIMIT = 0.10
BRIGHT_LIMIT = 0.6
DARK_LIMIT = 0.2
HIGHLIGHT_LIMIT = 0.5
HORIZON_MAX_DEG = 15.0
HORIZON_EDGE = 512

_THIRDS = np.array([(x, y) for x in (1 / 3, 2 / 3) for y in (1 / 3, 2 / 3)])
_THIRDS_FALLOFF = math.hypot(1 / 6, 1 / 6)


@dataclass(frozen=True)
class Quality:
    """Focus, exposure and composition measures of one photo (see the module docstring)."""

    focus: float
    focus_score: float
    blurry: bool
    motion_blur: bool
    focus_on_faces: bool
    brightness: float
    clipped_highlights: float
    crushed_shadows: float
    overexposed: bool
    underexposed: bool
    thirds_score: float
    horizon_tilt_deg: float | None
    subject_brightness: float
    background_brightness: float


@dataclass(frozen=True)
class Exposure:
    """The histogram measures and flags of `assess_exposure`."""

    brightness: float
    clipped_highlights: float
    crushed_shadows: float
    overexposed: bool
    underexposed: bool


@dataclass(frozen=True)
class Focus:
    """The sharpness measures of `assess_focus`; `subject` is the (x, y) subject point in 0–1."""

    focus: float
    focus_score: float
    blurry: bool
    motion_blur: bool
    on_faces: bool
    subject: tuple[float, float]


def _percentile(hist: np.ndarray, q: float) -> int:
    return int(np.searchsorted(np.cumsum(hist), q * hist.sum()))


def _stretched(gray: np.ndarray, hist: np.ndarray) -> np.ndarray:
    lo, hi = _percentile(hist, 0.01), _percentile(hist, 0.99)
    gain = 255.0 / max(hi - lo, 32)
    return (gray.astype(np.float32) - lo) * np.float32(gain)


def _tiles(values: np.ndarray) -> np.ndarray:
    """View of an H×W array as (rows, cols, TILE, TILE), dropping the ragged edge."""
    t = FOCUS_TILE
    h, w = values.shape[0] // t * t, values.shape[1] // t * t
    return values[:h, :w].reshape(h // t, t, w // t, t).swapaxes(1, 2)


def _anisotropy(gx: np.ndarray, gy: np.ndarray) -> float:
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    trace = jxx + jyy
    return math.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy) / trace if trace > 0 else 0.0


def focus_score(focus: float) -> float:
    """The 0–1 logistic of log(focus) used for `focus_score`."""
    return 1.0 / (1.0 + (FOCUS_BLURRY / focus) ** FOCUS_SLOPE) if focus > 0 else 0.0


def assess_focus(
    gray: np.ndarray, faces: Sequence[Face] = (), hist: np.ndarray | None = None
) -> Focus:
    """Sharpness of the subject: the faces if any, else the most detailed tiles."""
    if hist is None:
        hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    img = _stretched(gray, hist)
    lap = cv2.Laplacian(img, cv2.CV_32F, ksize=3)
    h, w = gray.shape
    boxes = [f.box for f in faces if f.box[2] >= FOCUS_FACE_MIN]
    if boxes:
        # The eye band (lashes, irises, brows) carries a face's finest detail.
        variances = [
            float(lap[y + bh // 5 : y + bh * 11 // 20, x : x + bw].var()) for x, y, bw, bh in boxes
        ]
        best = boxes[int(np.argmax(variances))]
        focus, regions = FACE_FOCUS_GAIN * max(variances), [best]
        areas = np.array([bw * bh for _, _, bw, bh in boxes], dtype=np.float64)
        cx = np.array([x + bw / 2 for x, _, bw, _ in boxes]) @ areas / areas.sum()
        cy = np.array([y + bh / 2 for _, y, _, bh in boxes]) @ areas / areas.sum()
    else:
        tile_var = _tiles(lap).var(axis=(2, 3))
        count = max(1, round(tile_var.size * FOCUS_TILE_SHARE))
        order = np.argsort(tile_var, axis=None)[::-1][:count]
        rows, cols = np.unravel_index(order, tile_var.shape)
        weights = tile_var[rows, cols].astype(np.float64)
        focus = float(weights.mean())
        t = FOCUS_TILE
        regions = [(int(c) * t, int(r) * t, t, t) for r, c in zip(rows, cols, strict=True)]
        total = weights.sum() or 1.0
        cx = float(((cols + 0.5) * t) @ weights / total)
        cy = float(((rows + 0.5) * t) @ weights / total)
    blurry = focus < FOCUS_BLURRY
    motion = False
    if blurry:
        mask = np.zeros(gray.shape, dtype=bool)
        for x, y, bw, bh in regions:
            mask[y : y + bh, x : x + bw] = True
        gx = cv2.Sobel(img, cv2.CV_32F, 1, 0)[mask]
        gy = cv2.Sobel(img, cv2.CV_32F, 0, 1)[mask]
        motion = _anisotropy(gx, gy) >= MOTION_ANISOTROPY
    return Focus(focus, focus_score(focus), blurry, motion, bool(boxes), (cx / w, cy / h))


def assess_exposure(gray: np.ndarray, hist: np.ndarray | None = None) -> Exposure:
    """Histogram measures of the luminance and the over/underexposed flags."""
    if hist is None:
        hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    total = float(hist.sum())
    brightness = float(hist @ np.arange(256)) / total / 255.0
    clipped = float(hist[CLIPPED_LEVEL:].sum()) / total
    crushed = float(hist[: CRUSHED_LEVEL + 1].sum()) / total
    highlight = _percentile(hist, 0.995) / 255.0
    return Exposure(
        brightness=brightness,
        clipped_highlights=clipped,
        crushed_shadows=crushed,
        overexposed=clipped >= CLIP_LIMIT and brightness >= BRIGHT_LIMIT,
        underexposed=brightness < DARK_LIMIT and highlight < HIGHLIGHT_LIMIT,
    )


def thirds_score(subject: tuple[float, float]) -> float:
    """1 on a rule-of-thirds point, 0 at the centre's distance from one or farther."""
    distance = float(np.min(np.hypot(*(_THIRDS - np.array(subject)).T)))
    return max(0.0, 1.0 - distance / _THIRDS_FALLOFF)


def horizon_tilt(gray: np.ndarray) -> float | None:
    """Angle in degrees of the strongest near-horizontal line (positive: rises to the right)."""
    scale = min(1.0, HORIZON_EDGE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    edges = cv2.Canny(cv2.GaussianBlur(small, (3, 3), 0), 50, 150)
    lines = cv2.HoughLines(
        edges,
        1,
        math.pi / 720,
        threshold=small.shape[1] // 3,
        min_theta=math.radians(90 - HORIZON_MAX_DEG),
        max_theta=math.radians(90 + HORIZON_MAX_DEG),
    )
    if lines is None:
        return None
    # theta is the angle of the line's normal; 90° is a level line.
    return round(90.0 - math.degrees(float(lines[0, 0, 1])), 2)


def subject_and_background(gray: np.ndarray, faces: Sequence[Face]) -> tuple[float, float]:
    """Mean brightness (0–1) of the faces (else the frame's centre) and of the rest."""
    h, w = gray.shape
    mask = np.zeros(gray.shape, dtype=np.uint8)
    for x, y, bw, bh in [f.box for f in faces] or [(w // 4, h // 4, w // 2, h // 2)]:
        mask[y : y + bh, x : x + bw] = 255
    subject = cv2.mean(gray, mask)[0] / 255.0
    background = cv2.mean(gray, cv2.bitwise_not(mask))[0] / 255.0
    return subject, background


def assess_quality(rgb: np.ndarray, faces: Sequence[Face] = ()) -> Quality:
    """All quality measures of an analysis image (H×W×3 uint8 RGB) and its detected faces."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    sharp = assess_focus(gray, faces, hist)
    exposure = assess_exposure(gray, hist)
    subject, background = subject_and_background(gray, faces)
    return Quality(
        focus=sharp.focus,
        focus_score=sharp.focus_score,
        blurry=sharp.blurry,
        motion_blur=sharp.motion_blur,
        focus_on_faces=sharp.on_faces,
        brightness=exposure.brightness,
        clipped_highlights=exposure.clipped_highlights,
        crushed_shadows=exposure.crushed_shadows,
        overexposed=exposure.overexposed,
        underexposed=exposure.underexposed,
        thirds_score=thirds_score(sharp.subject),
        horizon_tilt_deg=horizon_tilt(gray),
        subject_brightness=subject,
        background_brightness=background,
    )
