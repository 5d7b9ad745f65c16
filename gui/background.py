"""Work off the UI thread: `run_in_background` for one-off calls (submit, pause, cancel…)
and `Poller`, the thread that gathers the panel's snapshot once a second.

Every engine call blocks on Redis or the database, so none of them may run on the UI
thread; results come back to it by queued signals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThread, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

_pool: QThreadPool | None = None
_pending: set[_Relay] = set()


def pool() -> QThreadPool:
    """The GUI's own thread pool for one-off engine calls."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(4)
        _pool.setExpiryTimeout(2000)
    return _pool


class _Relay(QObject):
    """Lives on the caller's (UI) thread. The pool thread emits its signals; because the
    receiving slots belong to this object, Qt queues the calls to the UI thread."""

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        success: Callable[[Any], None] | None,
        failure: Callable[[Exception], None] | None,
    ) -> None:
        super().__init__()
        self._success = success
        self._failure = failure
        self.succeeded.connect(self._on_success)
        self.failed.connect(self._on_failure)

    @Slot(object)
    def _on_success(self, result: object) -> None:
        self._finish()
        if self._success is not None:
            self._success(result)

    @Slot(object)
    def _on_failure(self, error: Exception) -> None:
        self._finish()
        if self._failure is not None:
            self._failure(error)
        else:
            log.error("background call failed: %s", error, exc_info=error)

    def _finish(self) -> None:
        _pending.discard(self)
        self.deleteLater()


class _Call(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # handed to the caller's failure callback
            self._relay.failed.emit(exc)
        else:
            self._relay.succeeded.emit(result)


def run_in_background(
    fn: Callable[[], Any],
    success: Callable[[Any], None] | None = None,
    failure: Callable[[Exception], None] | None = None,
) -> None:
    """Run `fn()` on the GUI pool; call `success(result)` or `failure(error)` on the UI thread.

    `fn` runs on another thread: it must not touch widgets (pass it the values it needs).
    Call this from the UI thread. Without a `failure` callback errors are logged.
    """
    relay = _Relay(success, failure)
    _pending.add(relay)
    pool().start(_Call(fn, relay))


def settle_background(timeout_s: float = 30.0) -> bool:
    """Wait until every background call has finished and delivered its callback (shutdown
    and tests). Runs the UI thread's event loop meanwhile; call it from the UI thread."""
    deadline = time.monotonic() + timeout_s
    while _pending or pool().activeThreadCount():
        if time.monotonic() > deadline:
            return False
        pool().waitForDone(20)
        QCoreApplication.processEvents()
    return True


class Poller(QThread):
    """Calls `collect()` every `interval_s` seconds and emits each result by `snapshot`.

    `collect` should return an immutable snapshot and handle the engine's own errors; an
    exception that escapes it is emitted by `failed` and the loop goes on. `poke()` asks for
    a fresh snapshot now (after an action); `stop()` ends the loop and waits for the thread.
    """

    snapshot = Signal(object)
    failed = Signal(str)

    def __init__(
        self, collect: Callable[[], object], interval_s: float = 1.0, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._collect = collect
        self.interval_s = interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.setObjectName("junmai-poller")

    def run(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                result = self._collect()
            except Exception as exc:
                log.exception("poll failed")
                self.failed.emit(f"{type(exc).__name__}: {exc}")
            else:
                if not self._stopping.is_set():
                    self.snapshot.emit(result)
            wait = self.interval_s - (time.monotonic() - started)
            if wait > 0:
                self._wake.wait(wait)
            self._wake.clear()

    @Slot()
    def poke(self) -> None:
        """Poll again as soon as the current poll (if any) is done."""
        self._wake.set()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop polling and wait for the thread (a poll in flight finishes first)."""
        self._stopping.set()
        self._wake.set()
        if not self.wait(int(timeout_s * 1000)):
            log.warning("the poller did not stop within %.0f s", timeout_s)
