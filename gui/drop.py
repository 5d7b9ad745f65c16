"""Drag and drop of folders and photo files: dropped URLs to paths, what a drop holds
(counted off the UI thread) and the short confirmation before a session is submitted."""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from engine.analysis.formats import SKIPPED_EXTENSIONS, collect_photos
from gui import format as fmt

PRIORITIES = ("high", "medium", "low")
BY_SCENE = "Chosen by scene"


def local_path(url: QUrl) -> str | None:
    """The local path of a dropped URL (None for a web link). `toLocalFile` keeps a UNC
    server (`file://server/share/x` -> `//server/share/x`) and decodes %20."""
    if not url.isLocalFile():
        return None
    return url.toLocalFile()


def dropped_items(mime: QMimeData) -> list[str]:
    """Every dropped item as a path, or as the URL text when it is not a local file."""
    return [local_path(url) or url.toString() for url in mime.urls()]


@dataclass(frozen=True)
class FolderFound:
    path: str
    photos: int  # in the folder itself
    photos_recursive: int  # including sub-folders


@dataclass(frozen=True)
class DropPlan:
    """What a drop holds: folders with photos, single photo files, and what cannot be used."""

    folders: tuple[FolderFound, ...]
    files: tuple[str, ...]
    problems: tuple[str, ...]

    def photo_count(self, recursive: bool) -> int:
        per_folder = (f.photos_recursive if recursive else f.photos for f in self.folders)
        return sum(per_folder) + len(self.files)

    @property
    def has_subfolder_photos(self) -> bool:
        return any(f.photos_recursive > f.photos for f in self.folders)

    @property
    def empty(self) -> bool:
        return not self.folders and not self.files


def _is_network_path(path: str) -> bool:
    return path.startswith(("//", "\\\\"))


def inspect_drop(items: Iterable[str]) -> DropPlan:
    """Look at each dropped item (blocking file-system calls: run off the UI thread)."""
    folders: list[FolderFound] = []
    files: list[str] = []
    problems: list[str] = []
    for item in items:
        if "://" in item:
            problems.append(f"not a file or folder on this computer: {item}")
            continue
        path = Path(item)
        try:
            is_dir, is_file = path.is_dir(), path.is_file()
        except OSError as exc:
            problems.append(f"folder not reachable: {item} ({exc.strerror or exc})")
            continue
        if is_dir:
            found = _inspect_folder(path, problems)
            if found is not None:
                folders.append(found)
        elif is_file:
            if path.suffix.lower() in SKIPPED_EXTENSIONS or path.name.startswith("."):
                problems.append(f"not a photo or a folder: {path.name}")
            else:
                files.append(str(path))
        elif _is_network_path(item):
            problems.append(f"folder not reachable: {item} (is the network share connected?)")
        elif os.path.lexists(item):
            problems.append(f"not a photo or a folder: {item}")
        else:
            problems.append(f"folder not found (moved, renamed or the card ejected?): {item}")
    return DropPlan(tuple(folders), tuple(files), tuple(problems))


def _inspect_folder(path: Path, problems: list[str]) -> FolderFound | None:
    try:
        os.listdir(path)
        top = collect_photos(path, recursive=False)
        deep = collect_photos(path, recursive=True)
    except PermissionError:
        problems.append(f"folder not readable (permission denied): {path}")
        return None
    except OSError as exc:
        problems.append(f"folder not reachable: {path} ({exc.strerror or exc})")
        return None
    if not deep:
        problems.append(f"no photos in {path}")
        return None
    return FolderFound(str(path), len(top), len(deep))


@dataclass(frozen=True)
class SubmitChoice:
    """What the photographer confirmed."""

    recursive: bool
    priority: str
    auto_select: bool
    preset: str | None


class DropDialog(QDialog):
    """The short confirmation: photos found, priority, auto-select, preset."""

    def __init__(
        self,
        plan: DropPlan,
        presets: Sequence[str],
        default: SubmitChoice,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.plan = plan
        self.setWindowTitle("Process this shoot?")
        self.setObjectName("dropDialog")

        self.summary = QLabel()
        self.summary.setObjectName("dropSummary")
        self.summary.setWordWrap(True)
        self.recursive = QCheckBox("Include photos in sub-folders")
        self.recursive.setVisible(plan.has_subfolder_photos)
        self.recursive.setChecked(
            default.recursive or (plan.has_subfolder_photos and plan.photo_count(False) == 0)
        )
        self.priority = QComboBox()
        for name in PRIORITIES:
            self.priority.addItem(name.capitalize(), name)
        self.priority.setCurrentIndex(max(0, self.priority.findData(default.priority)))
        self.auto_select = QCheckBox("Only photos scoring 3.5 or more get presets and exports")
        self.auto_select.setChecked(default.auto_select)
        self.preset = QComboBox()
        self.preset.addItem(BY_SCENE, None)
        for name in presets:
            self.preset.addItem(name, name)
        self.preset.setCurrentIndex(max(0, self.preset.findData(default.preset)))

        form = QFormLayout()
        form.addRow("Priority", self.priority)
        form.addRow("Preset", self.preset)
        form.addRow("", self.auto_select)
        form.addRow("", self.recursive)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.process_button = buttons.addButton("Process", QDialogButtonBox.ButtonRole.AcceptRole)
        self.process_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.recursive.toggled.connect(self._update_summary)
        self._update_summary()

    def _update_summary(self) -> None:
        count = self.plan.photo_count(self.recursive.isChecked())
        places = [html.escape(Path(f.path).name or f.path) for f in self.plan.folders]
        if self.plan.files:
            places.append(fmt.count(len(self.plan.files), "single file"))
        text = f"<b>{fmt.count(count, 'photo')}</b> in {', '.join(places)}"
        if self.plan.problems:
            skipped = "<br>".join(html.escape(p) for p in self.plan.problems)
            text += f"<br><span style='color:#b45309'>Skipped:<br>{skipped}</span>"
        self.summary.setText(text)

    def choice(self) -> SubmitChoice:
        return SubmitChoice(
            recursive=self.recursive.isChecked(),
            priority=self.priority.currentData(),
            auto_select=self.auto_select.isChecked(),
            preset=self.preset.currentData(),
        )
