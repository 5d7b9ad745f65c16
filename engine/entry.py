"""The first code an executable runs: helper roles dispatched before anything imports Qt,
a log file standing in for the console a windowed app does not have, and the hook that
reports an unhandled error by naming that log file.

Used by the frozen launcher (packaging/launcher.py) and by `gui.app.main()`; Qt-free like
the rest of the engine.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path, PureWindowsPath
from types import TracebackType
from typing import TextIO

import platformdirs

from engine.config import APP_NAME, load_settings
from engine.errors import ConfigError

log = logging.getLogger(__name__)

# Arguments the window's executable hands to the engine instead of opening a window.
ROLES = frozenset({"worker", "beat"})
SELF_TEST = "--self-test"
ENGINE_EXECUTABLE = "junmai-engine"
OUTPUT_LOG_MAX_BYTES = 2_000_000

_output_log: Path | None = None


def is_role(argv: Sequence[str]) -> bool:
    """True when argv (without the program name) asks for a helper role, not the window."""
    return bool(argv) and (argv[0] in ROLES or argv[0] == SELF_TEST)


def is_engine_executable(executable: str | None = None) -> bool:
    """True for the console `junmai-engine` executable of the frozen app (both executables
    share one bundle and one entry script; the name tells them apart)."""
    name = PureWindowsPath(executable or sys.executable).stem.lower()  # / and \ both split
    return name == ENGINE_EXECUTABLE


def dispatch_role(argv: Sequence[str] | None = None) -> bool:
    """Run the helper role named by argv[0] (`worker`, `beat`, `--self-test`) and end the
    process with its exit code.

    Returns False, having done nothing, when argv names no role: the caller goes on to
    open its window (a dropped folder's path is not a role). Call it before importing Qt:
    a worker process must never load Qt.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not is_role(args):
        return False
    multiprocessing.freeze_support()  # a no-op unless this is a multiprocessing child
    tag = args[1].partition("@")[0] if args[0] in ROLES and len(args) > 1 else args[0]
    redirect_missing_output(tag.lstrip("-"))
    from engine.cli import main as engine_cli

    engine_cli.main(args=args, prog_name=Path(sys.argv[0]).stem or "junmai")
    return True  # not reached: click ends the process (standalone mode)


# --- output of an app without a console ----------------------------------------------------


def log_dir() -> Path:
    """The folder our logs go to: the engine's (JUNMAI_DATA_DIR/logs when set), otherwise the
    per-user log folder (%LOCALAPPDATA%\\Junmai\\Logs on Windows)."""
    try:
        return load_settings().log_dir
    except ConfigError:  # the engine reports a bad setting itself; logs still need a home
        return Path(platformdirs.user_log_dir(APP_NAME, False))


def _safe_tag(tag: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", tag) or "app"


def log_file_path(tag: str = "window") -> Path:
    """The file this process's stdout/stderr go to when it has no console: the one an error
    dialog names. After `redirect_missing_output` it is the file actually in use."""
    if _output_log is not None:
        return _output_log
    return log_dir() / f"{_safe_tag(tag)}-output.log"


def _rotate(path: Path, max_bytes: int) -> None:
    """Keep one previous file: rotated when the process starts, never while it writes
    (another process may hold it open on Windows, where a rename would fail)."""
    try:
        if path.stat().st_size > max_bytes:
            os.replace(path, path.with_name(path.name + ".1"))
    except OSError:
        pass


def redirect_missing_output(
    tag: str = "window", *, max_bytes: int = OUTPUT_LOG_MAX_BYTES
) -> Path | None:
    """Give a process without a console (pythonw, a windowed executable, a child started
    with no handles) a log file as stdout/stderr, so nothing that prints crashes on
    `None.write` and nothing printed is lost. Streams that exist are left alone.

    Returns the log file, or None when both streams were there.
    """
    global _output_log
    if sys.stdout is not None and sys.stderr is not None:
        return None
    path = log_dir() / f"{_safe_tag(tag)}-output.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _rotate(path, max_bytes)
        stream: TextIO = open(path, "a", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115 - lives as long as the process
    except OSError:
        stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
        path = Path(os.devnull)
    if sys.stdout is None:
        sys.stdout = stream
    if sys.stderr is None:
        sys.stderr = stream
    _output_log = path
    return path


# --- unhandled errors -------------------------------------------------------------------------

ErrorReporter = Callable[[str, str], None]  # (one-line message, full traceback)


def install_error_hook(report: ErrorReporter | None = None, tag: str = "window") -> None:
    """Log every unhandled error (main thread and other threads) with its traceback, then
    call `report(message, details)`, e.g. a dialog; the message names the log file.

    `report` may be called from any thread: a GUI must hand it over to its UI thread (a
    queued signal) before showing a dialog. A failing `report` never hides the original
    error: it is logged too.
    """

    def describe(value: BaseException) -> str:
        return (
            f"Something went wrong: {type(value).__name__}: {value}\n\n"
            f"Details are in {log_file_path(tag)}."
        )

    def handle(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        details = "".join(traceback.format_exception(kind, value, tb))
        log.critical("unhandled error:\n%s", details)
        if sys.stderr is not None:
            print(details, file=sys.stderr, flush=True)
        if report is not None:
            try:
                report(describe(value), details)
            except Exception:
                log.exception("the error report itself failed")

    def handle_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            handle(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = handle
    threading.excepthook = handle_thread
