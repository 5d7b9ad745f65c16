"""The settings dialog and the preferences behind it: validated, persisted, and turned into
the engine's settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from engine.config import RedisMode
from gui.preferences import (
    Preferences,
    engine_fields_differ,
    load_preferences,
    save_preferences,
)
from gui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.gui


def _prefs(tmp_path: Path, **changes) -> Preferences:
    base = Preferences(
        workers=2,
        redis_mode=RedisMode.PRIVATE,
        data_dir=str(tmp_path / "data"),
        export_dir=str(tmp_path / "exports"),
        export_long_edge=2048,
        export_quality=85,
        preset_amount=60,
        default_preset="Junmai Portrait",
    )
    return Preferences(**{**base.__dict__, **changes})


def test_preferences_become_the_engines_settings(tmp_path):
    settings = _prefs(tmp_path).engine_settings(base={})
    assert settings.workers == 2 and settings.data_dir == (tmp_path / "data").resolve()
    outputs = settings.outputs
    assert outputs.export_dir == tmp_path / "exports"
    assert (outputs.export_long_edge, outputs.export_quality, outputs.preset_amount) == (
        2048,
        85,
        60,
    )


def test_preferences_survive_a_restart(tmp_path):
    store = QSettings(str(tmp_path / "junmai.ini"), QSettings.Format.IniFormat)
    save_preferences(store, _prefs(tmp_path))
    again = load_preferences(QSettings(str(tmp_path / "junmai.ini"), QSettings.Format.IniFormat))
    assert again == _prefs(tmp_path)


def test_changing_exports_or_blend_restarts_the_engine_but_the_default_priority_does_not(tmp_path):
    prefs = _prefs(tmp_path)
    assert engine_fields_differ(prefs, _prefs(tmp_path, preset_amount=100))
    assert engine_fields_differ(prefs, _prefs(tmp_path, export_dir=""))
    assert not engine_fields_differ(prefs, _prefs(tmp_path, default_priority="high"))


def test_dialog_edits_and_validates(qtbot, tmp_path):
    dialog = SettingsDialog(_prefs(tmp_path), ["Junmai Portrait", "Junmai Night"])
    qtbot.addWidget(dialog)
    assert dialog.edited() == _prefs(tmp_path)
    dialog.export_long_edge.setValue(0)
    dialog.preset_amount.setValue(30)
    edited = dialog.edited()
    assert (edited.export_long_edge, edited.preset_amount) == (0, 30)
    assert edited.engine_settings(base={}).outputs.export_long_edge is None  # full size
    dialog.export_dir.setText("relative/exports")
    assert dialog.problem() == "Use a full path for the export folder (not 'relative/exports')."
    dialog.export_dir.setText("")
    assert dialog.problem() is None
