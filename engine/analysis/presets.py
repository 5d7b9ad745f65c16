"""Lightroom / Camera Raw `.xmp` presets: reading their basic develop settings and blending
them with an amount.

Only the basic panel is read (see BASIC_SETTINGS); other crs: values (HSL, curves, lens
corrections…) are ignored because we cannot scale them honestly from a neutral value.
Blending: relative settings scale from their neutral 0 (amount 50 → half of each value).
Absolute white balance (Temperature in kelvin, Tint) has no neutral value without the
camera's as-shot white balance, which EXIF does not give us; a white balance is a
correction rather than a strength, so it is copied unscaled for any amount above 0 and
left out ("As Shot") at 0.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.analysis.xmp import NS, parse_xmp
from engine.errors import PresetError, UnreadablePhoto
from engine.resources import resource_path

RELATIVE_SETTINGS = (
    "Exposure2012",
    "Contrast2012",
    "Highlights2012",
    "Shadows2012",
    "Whites2012",
    "Blacks2012",
    "Texture",
    "Clarity2012",
    "Dehaze",
    "Vibrance",
    "Saturation",
    "IncrementalTemperature",
    "IncrementalTint",
)
"""Settings whose neutral value is 0 (Exposure in stops, the rest −100…+100)."""
ABSOLUTE_SETTINGS = ("Temperature", "Tint")
BASIC_SETTINGS = RELATIVE_SETTINGS + ABSOLUTE_SETTINGS

_CRS = f"{{{NS['crs']}}}"
_RDF = f"{{{NS['rdf']}}}"


@dataclass(frozen=True)
class Preset:
    """A preset's name, group and basic settings (crs key without prefix → number)."""

    name: str
    settings: Mapping[str, float] = field(default_factory=dict)
    path: Path | None = None
    group: str | None = None


def _value(description: ET.Element, key: str) -> str | None:
    """A crs: property as attribute, simple element, or rdf:Alt (first rdf:li)."""
    if f"{_CRS}{key}" in description.attrib:
        return description.attrib[f"{_CRS}{key}"]
    element = description.find(f"{_CRS}{key}")
    if element is None:
        return None
    item = element.find(f".//{_RDF}li")
    text = (item if item is not None else element).text
    return text.strip() if text and text.strip() else None


def _has_crs(description: ET.Element) -> bool:
    return any(k.startswith(_CRS) for k in description.attrib) or any(
        child.tag.startswith(_CRS) for child in description
    )


def read_preset(path: Path) -> Preset:
    """Read one preset file; raises PresetError naming the file when it cannot be used."""
    path = Path(path)
    try:
        root = parse_xmp(path.read_bytes(), f"preset {path.name}")
    except OSError as err:
        raise PresetError(f"preset {path.name} cannot be read: {err.strerror or err}") from err
    except UnreadablePhoto as err:
        raise PresetError(str(err).replace("; left untouched", "")) from err
    descriptions = [d for d in root.iter(f"{_RDF}Description") if _has_crs(d)]
    if not descriptions:
        raise PresetError(f"preset {path.name} is not a Lightroom preset (no crs: settings)")
    settings: dict[str, float] = {}
    name = group = None
    for description in descriptions:
        name = name or _value(description, "Name")
        group = group or _value(description, "Group")
        for key in BASIC_SETTINGS:
            text = _value(description, key)
            if text is None:
                continue
            try:
                settings[key] = float(text)
            except ValueError:
                raise PresetError(
                    f"preset {path.name}: crs:{key} is not a number ({text!r})"
                ) from None
    return Preset(name=name or path.stem, settings=settings, path=path, group=group)


def load_presets(folder: Path) -> list[Preset]:
    """Every `.xmp` preset in `folder`, sorted by name; a malformed one raises PresetError."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() == ".xmp")
    return sorted((read_preset(p) for p in files), key=lambda p: p.name.casefold())


def bundled_presets() -> list[Preset]:
    """The presets shipped in `resources/presets/`."""
    return load_presets(resource_path("presets"))


def blend(preset: Preset, amount: float) -> dict[str, float]:
    """The preset's settings at `amount` percent (0–100) of their strength; see module doc."""
    if not 0 <= amount <= 100:
        raise ValueError(f"preset amount must be 0–100 %, not {amount}")
    out: dict[str, float] = {}
    for key, value in preset.settings.items():
        if key in ABSOLUTE_SETTINGS:
            if amount > 0:
                out[key] = value
        else:
            out[key] = value * amount / 100
    return out
