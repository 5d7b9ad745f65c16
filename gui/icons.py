"""Our icons, looked up by name: `icon("pause")` is resources/icons/pause.svg, found through
the one resource helper (source checkout or frozen bundle). An unknown name raises
MissingResource listing the names that exist."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from engine.resources import resource_path


def icon_path(name: str) -> str:
    """The file behind an icon name; raises MissingResource with the known names."""
    return str(resource_path("icons", f"{name}.svg"))


@cache
def icon(name: str) -> QIcon:
    """The icon called `name` (cached: one QIcon per name for the life of the app)."""
    return QIcon(icon_path(name))


def stylesheet() -> str:
    """The application's style sheet (resources/style.qss)."""
    return resource_path("style.qss").read_text(encoding="utf-8")
