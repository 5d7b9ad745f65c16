"""The settings dialog: workers, Redis (private, auto, or a URL for Memurai / an external
Redis), data folder, and the defaults a drop starts with. Validated before it closes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import RedisMode
from engine.errors import ConfigError
from gui.drop import BY_SCENE, PRIORITIES
from gui.preferences import Preferences


def folder_problem(text: str, what: str = "data folder") -> str | None:
    """Why a folder Junmai writes into cannot be used, or None."""
    if not text.strip():
        return f"Choose a {what}."
    path = Path(text.strip()).expanduser()
    if not path.is_absolute():
        return f"Use a full path for the {what} (not {text!r})."
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None or not existing.is_dir():
        return f"{existing or path} is not a folder."
    if not os.access(existing, os.W_OK):
        return f"Junmai cannot write in {existing}."
    return None


class SettingsDialog(QDialog):
    def __init__(
        self, prefs: Preferences, presets: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Junmai settings")
        self.setObjectName("settingsDialog")
        self.result_prefs: Preferences | None = None

        self.workers = QSpinBox()
        self.workers.setRange(1, os.cpu_count() or 1)
        self.workers.setValue(min(prefs.workers or 1, self.workers.maximum()))
        self.workers.setSuffix(" worker processes")

        self.private = QRadioButton("Private (started by Junmai; recommended)")
        self.auto = QRadioButton(
            "Use a Redis already running on this computer (port 6379), else private"
        )
        self.external = QRadioButton("Memurai or another Redis at:")
        self.redis_group = QButtonGroup(self)
        for button in (self.private, self.auto, self.external):
            self.redis_group.addButton(button)
        self.redis_url = QLineEdit(prefs.redis_url)
        self.redis_url.setPlaceholderText("redis://:password@host:6379/0")
        mode = prefs.redis_mode or RedisMode.PRIVATE
        {
            RedisMode.PRIVATE: self.private,
            RedisMode.AUTO: self.auto,
            RedisMode.EXTERNAL: self.external,
        }[mode].setChecked(True)
        self.external.toggled.connect(self.redis_url.setEnabled)
        self.redis_url.setEnabled(self.external.isChecked())
        redis_box = QVBoxLayout()
        for widget in (self.private, self.auto, self.external, self.redis_url):
            redis_box.addWidget(widget)

        self.data_dir = QLineEdit(prefs.data_dir)
        data_row = self._folder_row(self.data_dir, "Data folder")

        self.priority = QComboBox()
        for name in PRIORITIES:
            self.priority.addItem(name.capitalize(), name)
        self.priority.setCurrentIndex(max(0, self.priority.findData(prefs.default_priority)))
        self.preset = QComboBox()
        self.preset.addItem(BY_SCENE, None)
        for name in presets:
            self.preset.addItem(name, name)
        self.preset.setCurrentIndex(max(0, self.preset.findData(prefs.default_preset)))
        self.auto_select = QCheckBox("Only photos scoring 3.5 or more get presets and exports")
        self.auto_select.setChecked(prefs.auto_select)

        self.preset_amount = QSpinBox()
        self.preset_amount.setRange(0, 100)
        self.preset_amount.setSuffix(" % of the preset")
        self.preset_amount.setValue(prefs.preset_amount if prefs.preset_amount is not None else 100)
        self.export_dir = QLineEdit(prefs.export_dir)
        self.export_dir.setPlaceholderText("“Junmai Exports” inside each shoot's folder")
        export_row = self._folder_row(self.export_dir, "Export folder")
        self.export_long_edge = QSpinBox()
        self.export_long_edge.setRange(0, 20_000)
        self.export_long_edge.setSingleStep(256)
        self.export_long_edge.setSpecialValueText("Full size")
        self.export_long_edge.setSuffix(" px long edge")
        self.export_long_edge.setValue(prefs.export_long_edge or 0)
        self.export_quality = QSpinBox()
        self.export_quality.setRange(1, 100)
        self.export_quality.setPrefix("JPEG quality ")
        self.export_quality.setValue(prefs.export_quality or 92)

        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setVisible(False)

        form = QFormLayout()
        form.addRow("Workers", self.workers)
        form.addRow("Redis", redis_box)
        form.addRow("Data folder", data_row)
        form.addRow(QLabel("<b>New shoots</b>"))
        form.addRow("Priority", self.priority)
        form.addRow("Preset", self.preset)
        form.addRow("", self.auto_select)
        form.addRow("Blend", self.preset_amount)
        form.addRow(QLabel("<b>Exports</b>"))
        form.addRow("Export folder", export_row)
        form.addRow("Size", self.export_long_edge)
        form.addRow("Format", self.export_quality)
        note = QLabel(
            "Changing workers, Redis, the data folder, blend or exports restarts the engine; "
            "queued jobs carry on."
        )
        note.setObjectName("caption")
        note.setWordWrap(True)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._validate_and_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def edited(self) -> Preferences:
        """The preferences as the fields say now (not yet validated)."""
        if self.external.isChecked():
            mode = RedisMode.EXTERNAL
        elif self.auto.isChecked():
            mode = RedisMode.AUTO
        else:
            mode = RedisMode.PRIVATE
        return Preferences(
            workers=self.workers.value(),
            redis_mode=mode,
            redis_url=self.redis_url.text().strip() if mode is RedisMode.EXTERNAL else "",
            data_dir=self.data_dir.text().strip(),
            default_priority=self.priority.currentData(),
            default_preset=self.preset.currentData(),
            auto_select=self.auto_select.isChecked(),
            export_dir=self.export_dir.text().strip(),
            export_long_edge=self.export_long_edge.value(),
            export_quality=self.export_quality.value(),
            preset_amount=self.preset_amount.value(),
        )

    def problem(self) -> str | None:
        """Why the fields cannot be saved, or None."""
        prefs = self.edited()
        if prefs.redis_mode is RedisMode.EXTERNAL and not prefs.redis_url:
            return "Enter the Redis URL, e.g. redis://:password@studio-server:6379/0."
        folder = folder_problem(prefs.data_dir) or (
            folder_problem(prefs.export_dir, "export folder") if prefs.export_dir else None
        )
        if folder:
            return folder
        try:
            prefs.engine_settings()
        except ConfigError as exc:
            return str(exc)
        return None

    def _validate_and_accept(self) -> None:
        problem = self.problem()
        self.error.setText(problem or "")
        self.error.setVisible(problem is not None)
        if problem is None:
            self.result_prefs = self.edited()
            self.accept()

    def _folder_row(self, field: QLineEdit, title: str) -> QHBoxLayout:
        """A folder path field with a Browse… button that opens the native folder dialog."""

        def browse() -> None:
            folder = QFileDialog.getExistingDirectory(self, title, field.text())
            if folder:
                field.setText(folder)

        button = QPushButton("Browse…")
        button.clicked.connect(browse)
        row = QHBoxLayout()
        row.addWidget(field, 1)
        row.addWidget(button)
        return row
