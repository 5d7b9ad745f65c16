"""The `junmai` entry point: the application object, logging to the user's log folder, the
window, and (in the frozen executable) the dispatch of helper roles such as `worker`."""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import sys
import traceback
from types import TracebackType

import pyqtgraph as pg
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.config import Settings, load_settings
from engine.entry import dispatch_role, redirect_missing_output
from engine.errors import ConfigError
from gui.background import settle_background
from gui.compat import broken_qt_message
from gui.engine_link import close_engine
from gui.icons import icon, stylesheet
from gui.main_window import MainWindow
from gui.preferences import load_preferences

ORGANISATION, APPLICATION = "Junmai", "AutoDev"
log = logging.getLogger("gui")


def configure_qt(app: QApplication) -> None:
    """Look and feel shared by the app, the tests and the screenshot."""
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationDisplayName("Junmai AutoDev")
    app.setWindowIcon(icon("app"))
    # Engine calls run Python on background threads; a short GIL switch interval hands the
    # UI thread the interpreter sooner (CPython's default is 5 ms per hand-over).
    sys.setswitchinterval(0.001)
    app.setStyle("Fusion")
    app.setStyleSheet(stylesheet())
    pg.setConfigOptions(antialias=True, foreground="#5d6b7e")


def _log_to_file(settings: Settings) -> str:
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    path = settings.log_dir / "junmai-window.log"
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler, logging.StreamHandler()])
    return str(path)


def _engine_settings(store: QSettings) -> tuple[Settings, str | None]:
    """Settings from the environment and the saved preferences; a saved value the engine
    rejects is reported and the environment alone is used."""
    try:
        return load_preferences(store).engine_settings(), None
    except ConfigError as exc:
        return (
            load_settings(),
            f"Your saved settings could not be used ({exc}); using the defaults.",
        )


def main() -> None:
    """Run the control panel (or, in the frozen app, the helper role named first)."""
    multiprocessing.freeze_support()
    if dispatch_role(sys.argv[1:]):  # worker / beat / --self-test; a folder path is a drop
        return
    redirect_missing_output("window")  # pythonw / windowed: no console streams

    app = QApplication(sys.argv)
    broken = broken_qt_message()
    if broken:
        print(broken, file=sys.stderr)
        QMessageBox.critical(None, "Junmai AutoDev", broken)
        sys.exit(2)
    configure_qt(app)
    app.setQuitOnLastWindowClosed(False)  # the tray keeps the queue running
    store = QSettings()
    settings, problem = _engine_settings(store)
    log_path = _log_to_file(settings)

    def report(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.critical("unhandled error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        QMessageBox.critical(
            None, "Junmai AutoDev", f"Something went wrong: {value}\n\nDetails are in {log_path}."
        )

    sys.excepthook = report
    window = MainWindow(settings, store)
    window.closed.connect(app.quit)
    window.show()
    if problem:
        window.notice.show_message(problem, "warning")
    window.start()
    code = app.exec()
    settle_background()
    if window.connection is not None:  # the session ended without our Quit (logout, signal)
        close_engine(window.connection)
    sys.exit(code)


if __name__ == "__main__":
    main()
