"""Entry script of the frozen app: both executables (`junmai` windowed, `junmai-engine`
console) run this file; the executable's name and the first argument choose what it does.

    junmai                      the window (a folder path argument is a drop, not a role)
    junmai worker|beat NAME …   helper roles the engine starts: dispatched before Qt loads
    junmai --self-test          Qt smoke check (offscreen) + the engine self-test
    junmai-engine …             the engine's command line (`junmai-engine --help`)

Runs from source too: `python packaging/launcher.py --self-test` (repo root on PYTHONPATH).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

# What Qt says when a plugin or library of the bundle is missing or broken.
PLUGIN_FAILURE = re.compile(
    r"could not (load|find)|cannot load|failed to load|no such plugin|not a valid qt plugin",
    re.IGNORECASE,
)


def qt_check() -> int:
    """What the window needs from the bundle, checked offscreen: the platform plugin, the
    SVG icon engine, JPEG reading, our icons and style sheet, every GUI module importable,
    and the main window built (not started). Returns 0, or 1 with the reason printed."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    messages: list[str] = []
    try:
        from PySide6.QtCore import QSettings, qInstallMessageHandler
        from PySide6.QtGui import QImageReader
        from PySide6.QtWidgets import QApplication

        def collect(_kind: object, _context: object, text: str) -> None:
            messages.append(text)

        qInstallMessageHandler(collect)
        app = QApplication.instance() or QApplication([sys.argv[0]])
        from gui import app as gui_app
        from gui.icons import icon
        from gui.main_window import MainWindow

        gui_app.configure_qt(app)  # type: ignore[arg-type]
        try:
            from gui.compat import broken_qt_message
        except ImportError:  # an older window without the check
            broken_qt_message = None  # type: ignore[assignment]
        problem = broken_qt_message() if broken_qt_message is not None else None
        if problem:  # the bundled binding would crash the window within minutes
            raise RuntimeError(problem)
        formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
        missing = {"jpeg", "png", "svg"} - formats
        if missing:
            raise RuntimeError(
                f"Qt image plugins missing: {sorted(missing)} (found {sorted(formats)})"
            )
        if icon("app").pixmap(32, 32).isNull():
            raise RuntimeError("the app icon does not render (SVG icon engine missing?)")
        with tempfile.TemporaryDirectory(prefix="junmai-qtcheck-") as tmp:
            from engine.config import load_settings

            settings = load_settings({**os.environ, "JUNMAI_DATA_DIR": str(Path(tmp) / "data")})
            store = QSettings(str(Path(tmp) / "prefs.ini"), QSettings.Format.IniFormat)
            window = MainWindow(settings, store)  # built and shown, never started
            window.show()
            app.processEvents()
            window.hide()
            window.deleteLater()
            app.processEvents()
        bad = [m for m in messages if PLUGIN_FAILURE.search(m)]
        if bad:
            raise RuntimeError("Qt reported: " + " | ".join(bad))
    except Exception as exc:
        traceback.print_exc(file=sys.stdout)
        print(f"self-test: FAILED: Qt check: {type(exc).__name__}: {exc}", flush=True)
        for text in messages:
            print(f"  Qt: {text}", flush=True)
        return 1
    platform = QApplication.platformName()
    print(
        f"self-test: Qt OK ({platform}): icons, style sheet, image plugins, main window", flush=True
    )
    return 0


def main() -> None:
    multiprocessing.freeze_support()  # first: a multiprocessing child must not go further
    from engine import entry

    argv = sys.argv[1:]
    engine_exe = entry.is_engine_executable()
    if argv[:1] == [entry.SELF_TEST] and not engine_exe:
        entry.redirect_missing_output("self-test")
        if qt_check() != 0:
            sys.exit(1)
    if entry.dispatch_role(argv):
        return
    if engine_exe:
        from engine.cli import main as engine_cli

        engine_cli(prog_name="junmai-engine")
        return
    entry.redirect_missing_output("window")
    from gui.app import main as window

    window()


if __name__ == "__main__":
    main()
