"""GUI test fixtures: offscreen Qt, the app's look, a window on a real private engine, and a
guard that fails any test leaving a QThread, a QTimer or a background call running."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists

import pytest
import shiboken6
from PySide6.QtCore import QSettings, QThread, QTimer
from PySide6.QtWidgets import QApplication

from engine.config import Settings
from engine.metrics import GpuSource
from gui.app import configure_qt
from gui.background import pool, settle_background
from gui.compat import broken_qt_message
from gui.main_window import MainWindow
from gui.snapshot import PanelSnapshot

ENGINE_START_S = 60_000
BROKEN_QT = broken_qt_message()


@pytest.fixture(scope="session", autouse=True)
def _look(qapp: QApplication) -> None:
    configure_qt(qapp)


def _running_qt_objects() -> list[str]:
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, (QThread, QTimer)) and shiboken6.isValid(obj):
            running = obj.isRunning() if isinstance(obj, QThread) else obj.isActive()
            if running and obj is not QThread.currentThread():
                found.append(f"{type(obj).__name__} {obj.objectName() or hex(id(obj))}")
    return found


@pytest.fixture(autouse=True)
def no_running_threads_or_timers(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a QThread, an active QTimer or a background call behind (and
    fail every test, rather than crash the run, on a Qt binding known to break Python)."""
    if BROKEN_QT:
        pytest.fail(BROKEN_QT, pytrace=False)
    yield
    assert settle_background(30), "a background call was still running after the test"
    qapp.processEvents()
    gc.collect()
    leftovers = _running_qt_objects()
    assert pool().activeThreadCount() == 0
    assert not leftovers, f"left running after the test: {', '.join(leftovers)}"


@pytest.fixture
def store(tmp_path: Path) -> QSettings:
    """Preferences in a file of the test's own, never the user's."""
    return QSettings(str(tmp_path / "junmai.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def open_window(qtbot, store: QSettings) -> Iterator[Callable[..., MainWindow]]:
    """Start a window on `settings` (owner or client) and wait for its first snapshot;
    every window is shut down (engine stopped) at the end."""
    windows: list[MainWindow] = []

    def open_(
        settings: Settings, gpu_source: GpuSource | None = None, poll_s: float = 0.5
    ) -> MainWindow:
        window = MainWindow(settings, store, gpu_source=gpu_source, poll_interval_s=poll_s)
        windows.append(window)
        window.show()
        with qtbot.waitSignal(window.snapshot_shown, timeout=ENGINE_START_S):
            window.start()
        return window

    yield open_
    for window in windows:
        if not window._quitting:
            with qtbot.waitSignal(window.closed, timeout=60_000):
                window.shutdown()
        window.deleteLater()
    qtbot.wait(10)


def wait_for_snapshot(
    qtbot, window: MainWindow, check: Callable[[PanelSnapshot], object], timeout_s: float = 60
) -> PanelSnapshot:
    """Wait until a snapshot shown by the window satisfies `check`; return it."""
    seen: list[PanelSnapshot] = []

    def satisfied() -> bool:
        snap = window.last_snapshot
        if snap is not None and snap.queue is not None and check(snap):
            seen.append(snap)
            return True
        return False

    qtbot.waitUntil(satisfied, timeout=int(timeout_s * 1000))
    return seen[-1]
