"""Lightroom presets: our shipped files, attribute and element forms, blending, bad files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine.analysis.presets import Preset, blend, bundled_presets, load_presets, read_preset
from engine.analysis.xmp import NS
from engine.errors import PresetError
from engine.resources import MissingResource, resource_path, resources_root

CRS, RDF = f"{{{NS['crs']}}}", f"{{{NS['rdf']}}}"


def test_shipped_presets_are_proper_lightroom_presets() -> None:
    presets = bundled_presets()
    assert [p.name for p in presets] == [
        "Junmai Action",
        "Junmai Landscape",
        "Junmai Low Light",
        "Junmai Neutral",
        "Junmai Night",
        "Junmai Portrait",
    ]
    uuids = set()
    for preset in presets:
        assert preset.group == "Junmai" and preset.settings
        assert preset.path is not None and preset.path.name == f"{preset.name}.xmp"
        desc = ET.parse(preset.path).getroot().find(f"{RDF}RDF/{RDF}Description")
        assert desc is not None
        assert desc.get(f"{CRS}PresetType") == "Normal"
        assert desc.get(f"{CRS}HasSettings") == "True"
        uuid = desc.get(f"{CRS}UUID")
        assert uuid is not None and len(uuid) == 32
        uuids.add(uuid)
        name = desc.find(f"{CRS}Name/{RDF}Alt/{RDF}li")
        assert name is not None and name.text == preset.name
    assert len(uuids) == len(presets)
    assert {p.name: p for p in presets}["Junmai Low Light"].settings["Exposure2012"] == 0.5


PRESET = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
   crs:PresetType="Normal" crs:Contrast2012="+20" crs:Temperature="3200" crs:Tint="+8"
   crs:IncrementalTemperature="-10" crs:Sharpness="60" crs:Name="Tungsten fix">
   <crs:Exposure2012>+1.00</crs:Exposure2012>
   <crs:Vibrance>30</crs:Vibrance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_attributes_and_elements_are_both_read(tmp_path: Path) -> None:
    preset = read_preset(write(tmp_path, "tungsten.xmp", PRESET))
    assert preset.name == "Tungsten fix"  # simple attribute form of crs:Name
    assert preset.settings == {
        "Exposure2012": 1.0,
        "Contrast2012": 20.0,
        "Vibrance": 30.0,
        "IncrementalTemperature": -10.0,
        "Temperature": 3200.0,
        "Tint": 8.0,
    }  # Sharpness is not a basic setting: ignored


def test_blend_scales_from_neutral_and_keeps_absolute_white_balance(tmp_path: Path) -> None:
    preset = read_preset(write(tmp_path, "tungsten.xmp", PRESET))
    half = blend(preset, 50)
    assert half["Exposure2012"] == 0.5
    assert half["Contrast2012"] == 10.0
    assert half["IncrementalTemperature"] == -5.0
    assert (half["Temperature"], half["Tint"]) == (3200.0, 8.0)
    assert blend(preset, 100) == dict(preset.settings)
    none = blend(preset, 0)
    assert "Temperature" not in none and "Tint" not in none
    assert set(none.values()) == {0.0}
    with pytest.raises(ValueError, match="0–100"):
        blend(preset, 120)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<x:xmpmeta><broken", r"preset bad\.xmp is not valid XMP"),
        ('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>', r"preset bad\.xmp is not a Lightroom preset"),
        (PRESET.replace('"+20"', '"lots"'), r"preset bad\.xmp: crs:Contrast2012 is not a number"),
        ("<html><body>not xmp</body></html>", r"preset bad\.xmp is not XMP"),
    ],
)
def test_malformed_presets_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "bad.xmp", text)
    with pytest.raises(PresetError, match=message):
        read_preset(path)
    with pytest.raises(PresetError, match=r"bad\.xmp"):
        load_presets(tmp_path)


def test_load_presets_reads_only_xmp_files_sorted(tmp_path: Path) -> None:
    write(tmp_path, "b.xmp", PRESET.replace("Tungsten fix", "Beta"))
    write(tmp_path, "a.XMP", PRESET.replace("Tungsten fix", "alpha"))
    write(tmp_path, "readme.txt", "not a preset")
    assert [p.name for p in load_presets(tmp_path)] == ["alpha", "Beta"]
    assert Preset(name="x").settings == {}


def test_resource_path_finds_files_and_lists_what_exists() -> None:
    assert resource_path("presets", "Junmai Night.xmp").is_file()
    assert resources_root() == Path(__file__).resolve().parents[2] / "resources"
    with pytest.raises(MissingResource, match=r"presets/Nope\.xmp not found .*Junmai Action\.xmp"):
        resource_path("presets", "Nope.xmp")


def test_resource_path_in_a_frozen_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "resources" / "icons").mkdir(parents=True)
    (tmp_path / "resources" / "icons" / "app.png").write_bytes(b"png")
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    assert resource_path("icons", "app.png") == tmp_path / "resources" / "icons" / "app.png"
