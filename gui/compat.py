"""A check for a broken PySide6 build: PySide6-Essentials 6.12.0 on Python 3.11 drops a
reference to None on every call of a Qt method that returns nothing (setText, setEnabled…),
so a window that updates itself once a second crashes Python within minutes ("deallocating
None"). 6.11.3 is fine, and on Python 3.12+ None is immortal so the bug is harmless."""

from __future__ import annotations

import sys

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import QSize

PROBE_CALLS = 100


def loses_none_references() -> bool:
    """True when this PySide6 build decrements None's reference count on void calls."""
    size = QSize()
    before = sys.getrefcount(None)
    for _ in range(PROBE_CALLS):
        size.setWidth(1)
    return sys.getrefcount(None) - before <= -PROBE_CALLS // 2


def broken_qt_message() -> str | None:
    """Why this Qt binding cannot run the window, or None when it can."""
    if not loses_none_references():
        return None
    return (
        f"PySide6 {PYSIDE_VERSION} on Python {sys.version_info.major}.{sys.version_info.minor} "
        "loses a reference to None on every Qt call that returns nothing and crashes within "
        "minutes. Install another PySide6 (pip install 'PySide6-Essentials==6.11.3') or use "
        "Python 3.12 or newer."
    )
