"""Scene context of a photo (portrait, landscape, night, …) and its default preset.

Tags, from EXIF and the quality measures (each may apply; thresholds in the constants):
- `portrait`: one or two faces, the largest at least PORTRAIT_FACE_PX (80 px) wide on the
  analysis image, i.e. 8 % of its 1024 px long edge.
- `group`: GROUP_FACES (3) faces or more.
- `action`: a fast shutter on a long lens: exposure ≤ ACTION_SHUTTER_S (1/500 s) and focal
  length ≥ ACTION_FOCAL_MM (200 mm, the real focal length: a compact's 200 mm-equivalent
  zoom is not seen).
- `night`: a dark frame (brightness < NIGHT_BRIGHTNESS, 0.2) whose highlights are lit
  (not `underexposed`: street lights, a lit window), shot long or at high ISO
  (exposure ≥ 1/30 s or ISO ≥ 1600) or with no exposure data.
- `low_light`: ISO ≥ LOW_LIGHT_ISO (1600), or exposure ≥ LOW_LIGHT_SHUTTER_S (1/15 s), or
  brightness < LOW_LIGHT_BRIGHTNESS (0.25).
- `indoor_flash`: the flash fired (EXIF Flash bit 0) at ISO ≤ 800.
- `backlit`: a bright background (≥ BACKLIT_BACKGROUND, 0.55) with a subject (the faces,
  else the centre of the frame) at most BACKLIT_RATIO (0.6; 0.5 without faces, where the
  centre is a weaker guess) of the background's brightness.
- `landscape`: no faces, not low light, and an outdoor daylight exposure (EV at ISO 100,
  log2(N² / t) − log2(ISO / 100), of at least DAYLIGHT_EV: 12, bright overcast or sun),
  a long level line (a horizon) or a small aperture (f/8 or smaller).

The primary context is the first tag in PRIORITY order (what decides the development
most), else "general". Each primary context maps to a default preset (PRESETS):
portrait and group → Junmai Portrait; landscape → Junmai Landscape; night → Junmai Night;
action → Junmai Action; low light and backlit → Junmai Low Light (it lifts shadows and
exposure); indoor flash and general → Junmai Neutral.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from engine.analysis.exif import ExifData
from engine.analysis.faces import Face
from engine.analysis.quality import Quality

PORTRAIT_FACE_PX = 80
GROUP_FACES = 3
ACTION_SHUTTER_S = 1 / 500
ACTION_FOCAL_MM = 200.0
NIGHT_BRIGHTNESS = 0.2
NIGHT_SHUTTER_S = 1 / 30
LOW_LIGHT_ISO = 1600
LOW_LIGHT_SHUTTER_S = 1 / 15
LOW_LIGHT_BRIGHTNESS = 0.25
FLASH_MAX_ISO = 800
BACKLIT_BACKGROUND = 0.55
BACKLIT_RATIO = 0.6
BACKLIT_RATIO_NO_FACES = 0.5
LANDSCAPE_F_NUMBER = 8.0
DAYLIGHT_EV = 12.0

PRIORITY = (
    "action",
    "night",
    "group",
    "portrait",
    "backlit",
    "low_light",
    "indoor_flash",
    "landscape",
)
PRESETS = {
    "portrait": "Junmai Portrait",
    "group": "Junmai Portrait",
    "landscape": "Junmai Landscape",
    "night": "Junmai Night",
    "action": "Junmai Action",
    "low_light": "Junmai Low Light",
    "backlit": "Junmai Low Light",
    "indoor_flash": "Junmai Neutral",
    "general": "Junmai Neutral",
}


@dataclass(frozen=True)
class Context:
    """The primary context, every tag that applies (in PRIORITY order), the default preset."""

    primary: str
    tags: tuple[str, ...]
    preset: str


def default_preset(primary: str | None) -> str:
    """The preset name for a primary context; unknown or None → Junmai Neutral."""
    return PRESETS.get(primary or "general", PRESETS["general"])


def exposure_value(exif: ExifData) -> float | None:
    """The scene's light as EV at ISO 100 (None without aperture and shutter)."""
    n, t = exif.f_number, exif.exposure_time
    if not n or not t or n <= 0 or t <= 0:
        return None
    return math.log2(n * n / t) - math.log2((exif.iso or 100) / 100)


def _tags(exif: ExifData, quality: Quality, faces: Sequence[Face]) -> set[str]:
    tags = set()
    shutter, iso, focal = exif.exposure_time, exif.iso, exif.focal_length
    if len(faces) >= GROUP_FACES:
        tags.add("group")
    elif faces and max(f.box[2] for f in faces) >= PORTRAIT_FACE_PX:
        tags.add("portrait")
    if (
        shutter is not None
        and focal is not None
        and shutter <= ACTION_SHUTTER_S
        and focal >= ACTION_FOCAL_MM
    ):
        tags.add("action")
    long_or_high = (shutter is None and iso is None) or (
        (shutter is not None and shutter >= NIGHT_SHUTTER_S)
        or (iso is not None and iso >= LOW_LIGHT_ISO)
    )
    if quality.brightness < NIGHT_BRIGHTNESS and not quality.underexposed and long_or_high:
        tags.add("night")
    if (
        (iso is not None and iso >= LOW_LIGHT_ISO)
        or (shutter is not None and shutter >= LOW_LIGHT_SHUTTER_S)
        or quality.brightness < LOW_LIGHT_BRIGHTNESS
    ):
        tags.add("low_light")
    if exif.flash and (iso is None or iso <= FLASH_MAX_ISO):
        tags.add("indoor_flash")
    ratio = BACKLIT_RATIO if faces else BACKLIT_RATIO_NO_FACES
    background = quality.background_brightness
    if background >= BACKLIT_BACKGROUND and quality.subject_brightness <= ratio * background:
        tags.add("backlit")
    level_line = quality.horizon_tilt_deg is not None
    small_aperture = exif.f_number is not None and exif.f_number >= LANDSCAPE_F_NUMBER
    ev = exposure_value(exif)
    daylight = ev is not None and ev >= DAYLIGHT_EV
    if not faces and "low_light" not in tags and (daylight or level_line or small_aperture):
        tags.add("landscape")
    return tags


def classify(exif: ExifData, quality: Quality, faces: Sequence[Face]) -> Context:
    """Context tags of one photo, its primary context and that context's default preset."""
    found = _tags(exif, quality, faces)
    tags = tuple(tag for tag in PRIORITY if tag in found)
    primary = tags[0] if tags else "general"
    return Context(primary=primary, tags=tags, preset=default_preset(primary))
