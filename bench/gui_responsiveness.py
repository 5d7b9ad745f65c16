"""How responsive the window stays while the engine works through a big session.

Starts the real window (offscreen) as the engine's owner with N workers, drops a folder of
10,000 tiny JPEGs on it (counted and submitted through the same path as a real drop), and
while the workers process it measures:

- the longest UI-thread stall: a 10 ms QTimer probe records how late each tick fires;
- the poll cost: how long the poller thread takes to gather one snapshot, and how long the
  UI thread takes to show it;

then purges what is left, waits for the queue to empty and measures the idle CPU of the
window process and of the whole app (window + workers + beat + Redis).

    python bench/gui_responsiveness.py [--photos 10000] [--workers 3] [--busy-s 60] [--idle-s 20]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil
from PIL import Image
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from engine.config import load_settings
from gui.app import configure_qt
from gui.background import settle_background
from gui.main_window import MainWindow
from gui.snapshot import PanelSnapshot

PROBE_MS = 10


def make_photos(folder: Path, count: int) -> None:
    """`count` distinct tiny JPEGs (a few hundred bytes each)."""
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        shade = number % 250
        Image.new("RGB", (64, 48), (shade, 255 - shade, (number * 7) % 256)).save(
            folder / f"IMG_{number:05d}.jpg", quality=80
        )


def wait(app: QApplication, seconds: float, until: object = None) -> bool:
    """Run the event loop for up to `seconds` (or until `until()` is true). A plain wait runs
    the real event loop, so that idle measurements include no polling of our own."""
    if until is None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()
        return False
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        if until is not None and until():  # type: ignore[operator]
            return True
        time.sleep(0.002)
    return False


class StallProbe:
    """A QTimer on the UI thread; a tick that comes late means the UI thread was busy."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.stalls: list[float] = []

    def start(self) -> None:
        self.stalls.clear()
        self.clock.start()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        elapsed = self.clock.restart()
        self.stalls.append(max(0.0, elapsed - PROBE_MS))


def cpu_pct(processes: list[psutil.Process], seconds: float, app: QApplication) -> list[float]:
    for process in processes:
        process.cpu_percent(None)
    wait(app, seconds)
    result = []
    for process in processes:
        try:
            result.append(process.cpu_percent(None))
        except psutil.NoSuchProcess:
            result.append(0.0)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--busy-s", type=float, default=60.0)
    parser.add_argument("--idle-s", type=float, default=20.0)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="junmai-bench-"))
    print(f"making {args.photos:,} tiny JPEGs in {root / 'shoot'} …", flush=True)
    make_photos(root / "shoot", args.photos)
    for name in ("REDIS_URL", "REDIS_HOST", "JUNMAI_REDIS"):
        os.environ.pop(name, None)
    settings = load_settings(
        {"JUNMAI_DATA_DIR": str(root / "data"), "JUNMAI_WORKERS": str(args.workers)}
    )
    if settings.workers != args.workers:
        print(
            f"note: {args.workers} workers asked, {settings.workers} used (this machine has {os.cpu_count()} cores)"
        )

    # Until the engine creates it itself, every analysis would fail on writing its thumbnail.
    settings.thumbnails_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    configure_qt(app)
    window = MainWindow(settings, QSettings(str(root / "junmai.ini"), QSettings.Format.IniFormat))
    window.resize(1180, 860)
    window.show()

    poll_ms: list[float] = []
    show_ms: list[float] = []
    shown = window._show_snapshot

    def timed_show(snap: PanelSnapshot) -> None:
        started = time.perf_counter()
        shown(snap)
        show_ms.append((time.perf_counter() - started) * 1000)
        poll_ms.append(snap.poll_s * 1000)

    window._show_snapshot = timed_show  # type: ignore[method-assign]
    probe = StallProbe()
    probe.start()
    window.start()
    assert wait(app, 90, lambda: window.last_snapshot is not None), "the engine did not start"
    print(f"engine: {window.redis_label.text()} · {settings.workers} workers", flush=True)

    submitted_at = time.monotonic()
    window.handle_drop([str(root / "shoot")])
    assert wait(app, 120, lambda: window.drop_dialog is not None and window.drop_dialog.isVisible())
    window.drop_dialog.accept()
    assert wait(app, 300, lambda: bool(window.last_snapshot and window.last_snapshot.sessions)), (
        "not submitted"
    )
    print(
        f"submitted in {time.monotonic() - submitted_at:.1f} s (count, confirm, bulk insert, publish)",
        flush=True,
    )

    probe.start()
    poll_ms.clear()
    show_ms.clear()
    session_id = window.last_snapshot.sessions[0].id
    tabs_at = time.monotonic()
    tab = 0
    busy_until = time.monotonic() + args.busy_s
    while time.monotonic() < busy_until:
        wait(app, 1.0)
        if time.monotonic() - tabs_at > 5:  # look around like a user: every tab, the results grid
            tab = (tab + 1) % window.tabs.count()
            if window.tabs.widget(tab) is window.results_view:
                window.show_results(session_id)
            else:
                window.tabs.setCurrentIndex(tab)
            tabs_at = time.monotonic()
    probe.stop()
    busy_stalls = list(probe.stalls)
    snap = window.last_snapshot
    session = next(s for s in snap.sessions if s.id == session_id)
    per_min = window.history.photos_per_min()

    manager = window.connection.manager
    # Drop what is left (a purge lets the photos already analysed go on to grouping, presets
    # and exports, so purge again until nothing is open).
    emptied_by = time.monotonic() + 300
    while window.last_snapshot is None or window.last_snapshot.busy:
        assert time.monotonic() < emptied_by, "the queue did not empty"
        manager.purge_queue()
        wait(app, 5, lambda: window.last_snapshot is not None and not window.last_snapshot.busy)
    wait(app, 3)
    me = psutil.Process()
    children = me.children(recursive=True)
    window.tabs.setCurrentIndex(0)
    probe.stop()
    usage = cpu_pct([me, *children], args.idle_s, app)

    print()
    print(
        f"session: {session.settled:,} of {session.total:,} photos settled in {args.busy_s:.0f} s"
        f" ({per_min or 0:.0f} photos/min at the end)"
    )
    print(
        f"longest UI-thread stall while busy: {max(busy_stalls):.1f} ms"
        f" (p99 {statistics.quantiles(busy_stalls, n=100)[98]:.1f} ms, {len(busy_stalls):,} probe ticks)"
    )
    print(
        f"poll cost (poller thread, one snapshot): mean {statistics.mean(poll_ms):.1f} ms, max {max(poll_ms):.1f} ms"
    )
    print(
        f"showing a snapshot (UI thread): mean {statistics.mean(show_ms):.1f} ms, max {max(show_ms):.1f} ms"
    )
    print(
        f"idle CPU over {args.idle_s:.0f} s: window process {usage[0]:.2f} % of a core;"
        f" whole app ({len(children)} child processes) {sum(usage):.2f} % of a core"
    )
    for process, pct in zip(children, usage[1:], strict=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            print(f"    {' '.join(process.cmdline()[-4:])[:70]:70s} {pct:.2f} %")

    window.shutdown()
    wait(app, 60, lambda: window.connection is None and not window.isVisible())
    settle_background()


if __name__ == "__main__":
    main()
