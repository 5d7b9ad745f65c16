"""The control panel window: owns the engine connection, the poller and every view, and turns
the photographer's clicks, keys and drops into engine calls made off the UI thread."""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QHideEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.analysis.presets import bundled_presets
from engine.config import Settings
from engine.manager import JobQueueManager
from engine.metrics import GpuSource, MetricsCollector
from engine.snapshots import SubmitResult
from gui import format as fmt
from gui.background import Poller, run_in_background
from gui.dashboard import Dashboard
from gui.drop import DropDialog, DropPlan, SubmitChoice, dropped_items, inspect_drop
from gui.engine_link import Connection, close_engine, open_engine
from gui.history import History, current_session
from gui.icons import icon
from gui.jobs_view import JobsView
from gui.preferences import Preferences, engine_fields_differ, load_preferences, save_preferences
from gui.results_view import PhotoCard, ResultsView, load_cards, rated
from gui.sessions_view import SessionsView
from gui.settings_dialog import SettingsDialog
from gui.snapshot import PanelCollector, PanelSnapshot
from gui.tray import Tray
from gui.workers_view import WorkersView

log = logging.getLogger(__name__)

STALE_AFTER_S = 4.0  # no fresh snapshot for this long: the banner says so
RESULTS_REFRESH_S = 3.0


class MessageBar(QFrame):
    """One line of feedback under the header (drop problems, action results); never modal."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = "info"
        self.hide()

    def show_message(self, text: str, kind: str = "info") -> None:
        """kind: info, warning or error (styled by the stylesheet)."""
        self.kind = kind
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class MainWindow(QMainWindow):
    """Built with the engine settings to use; call `start()` to become owner or client."""

    connected = Signal(object)  # Connection
    snapshot_shown = Signal(object)  # PanelSnapshot
    submitted = Signal(object)  # list[SubmitResult]
    closed = Signal()  # the engine is stopped (or disconnected): the app may exit

    def __init__(
        self,
        settings: Settings,
        store: QSettings,
        gpu_source: GpuSource | None = None,
        poll_interval_s: float = 1.0,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.prefs = load_preferences(store)
        self.gpu_source = gpu_source
        self.poll_interval_s = poll_interval_s
        self.connection: Connection | None = None
        self.collector: PanelCollector | None = None
        self.poller: Poller | None = None
        self.history = History()
        self.last_snapshot: PanelSnapshot | None = None
        self.presets: list[str] = []
        self.drop_dialog: DropDialog | None = None
        self.quit_box: QMessageBox | None = None
        self.purge_box: QMessageBox | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._last_fresh = time.monotonic()
        self._starting = False
        self._quitting = False
        self._explained_tray = False
        self._seen_done: dict[int, bool] = {}
        self._failed_seen: int | None = None
        self._results_loading = False
        self._results_loaded_at = 0.0
        self._results_settled: int | None = None

        self.setWindowTitle("Junmai AutoDev")
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self._build()
        self.tray = Tray(self)
        self.tray.pause_action.triggered.connect(self.pause_queue)
        self.tray.resume_action.triggered.connect(self.resume_queue)
        self.tray.show_action.triggered.connect(self.show_from_tray)
        self.tray.quit_action.triggered.connect(self.shutdown)
        self.tray.set_state("idle", "Junmai AutoDev: starting", None)

        self.stale_timer = QTimer(self)
        self.stale_timer.setInterval(1000)
        self.stale_timer.timeout.connect(self._check_stale)
        geometry = store.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1180, 860)

    # --- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.drop_zone = QLabel()
        self.drop_zone.setObjectName("dropZone")
        self.drop_zone.setText("Drop a folder here to process a shoot")
        drop_icon = QLabel()
        drop_icon.setPixmap(icon("drop").pixmap(26, 26))
        self.pause_button = QPushButton(icon("pause"), "Pause queue")
        self.pause_button.setObjectName("pauseButton")
        self.pause_button.setToolTip(
            "Pause or resume the whole queue (Ctrl+P): running jobs finish"
        )
        self.pause_button.setEnabled(False)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.settings_button = QPushButton(icon("settings"), "Settings")
        self.settings_button.clicked.connect(self.open_settings)
        header = QFrame()
        header.setObjectName("header")
        head = QHBoxLayout(header)
        head.setContentsMargins(14, 10, 10, 10)
        head.addWidget(drop_icon)
        head.addWidget(self.drop_zone, 1)
        head.addWidget(self.pause_button)
        head.addWidget(self.settings_button)

        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setText("Starting the engine…")
        self.notice = MessageBar()

        self.dashboard = Dashboard()
        self.sessions_view = SessionsView()
        self.sessions_view.open_results.connect(self.show_results)
        self.workers_view = WorkersView()
        self.jobs_view = JobsView()
        self.jobs_view.filter_changed.connect(self._jobs_filter_changed)
        self.jobs_view.cancel_requested.connect(self.cancel_jobs)
        self.jobs_view.retry_requested.connect(self.retry_jobs)
        self.jobs_view.retry_all_requested.connect(self.retry_all_failed)
        self.jobs_view.purge_requested.connect(self.confirm_purge)
        self.results_view = ResultsView()
        self.results_view.grid.rate.connect(self.rate_photos)
        self.results_view.grid.open_photo.connect(self.open_photo)
        self.results_view.open_export_folder.connect(self.open_export_folder)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.sessions_view, "Sessions")
        self.tabs.addTab(self.workers_view, "Workers")
        self.tabs.addTab(self.jobs_view, "Jobs")
        self.tabs.addTab(self.results_view, "Results")
        self.tabs.currentChanged.connect(self._tab_changed)

        body = QWidget()
        body.setObjectName("body")
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(8)
        layout.addWidget(self.banner)
        layout.addWidget(self.notice)
        layout.addWidget(self.dashboard)
        layout.addWidget(self.tabs, 1)
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(header)
        outer.addWidget(body, 1)
        self.setCentralWidget(central)

        self.redis_label = QLabel("Redis: –")
        self.data_label = QLabel(f"data: {self.settings.data_dir}")
        self.workers_label = QLabel("")
        self.role_label = QLabel("")
        for label in (self.redis_label, self.data_label, self.workers_label, self.role_label):
            label.setObjectName("statusItem")
            self.statusBar().addPermanentWidget(label)

        quit_action = QAction("Quit", self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.request_quit)
        pause_key = QAction(self, shortcut=QKeySequence("Ctrl+P"))
        pause_key.triggered.connect(self._toggle_pause)
        self.addActions([quit_action, pause_key])

    # --- engine lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Become the engine's owner, or its client when another process owns it (off the
        UI thread; `connected` fires when done)."""
        self._starting = True
        settings = self.settings
        run_in_background(lambda: open_engine(settings), self._connected, self._start_failed)
        run_in_background(lambda: [p.name for p in bundled_presets()], self._presets_loaded)

    def _presets_loaded(self, names: list[str]) -> None:
        self.presets = names

    def _connected(self, connection: Connection) -> None:
        self._starting = False
        if self._quitting:
            self.connection = connection
            self._close_connection()
            return
        self.connection = connection
        self.settings = connection.settings
        metrics = MetricsCollector(connection.settings.data_dir, self.gpu_source)
        self.collector = PanelCollector(connection.manager, metrics)
        self.collector.jobs_filter = self.jobs_view.status_filter
        self.collector.want_jobs = self.isVisible() and self.tabs.currentWidget() is self.jobs_view
        self.poller = Poller(self.collector, self.poll_interval_s, self)
        self.poller.snapshot.connect(self._show_snapshot)
        self.poller.failed.connect(self._poll_failed)
        self._last_fresh = time.monotonic()
        self.poller.start()
        self.stale_timer.start()
        self.banner.setText("Connecting…")
        self.redis_label.setText(f"Redis: {connection.endpoint.display}")
        self.data_label.setText(f"data: {connection.settings.data_dir}")
        self.role_label.setText(
            "this window runs the engine"
            if connection.owner
            else f"client of the engine run by process {connection.owner_pid}"
        )
        self.connected.emit(connection)

    def _start_failed(self, error: Exception) -> None:
        self._starting = False
        if self._quitting:
            self._finish_quit()
            return
        self._show_banner(
            f"The engine did not start: {error}. Check Settings, then restart Junmai."
        )
        self.tray.set_state("error", f"Junmai AutoDev: engine did not start ({error})", None)

    def restart_engine(self, settings: Settings) -> None:
        """Stop (or leave) the current engine and start with new settings."""
        self._stop_polling()
        connection, self.connection = self.connection, None
        self._show_banner("Restarting the engine with the new settings…")
        self.history.clear()
        self.settings = settings
        self._starting = True

        def restart() -> Connection:
            if connection is not None:
                close_engine(connection)
            return open_engine(settings)

        run_in_background(restart, self._connected, self._start_failed)

    def _stop_polling(self) -> None:
        self.stale_timer.stop()
        if self.poller is not None:
            self.poller.stop()
            self.poller.snapshot.disconnect(self._show_snapshot)
            self.poller.deleteLater()
            self.poller = None
        self.collector = None

    # --- snapshots ------------------------------------------------------------------------

    def _show_snapshot(self, snap: PanelSnapshot) -> None:
        if self._quitting:
            return
        self.last_snapshot = snap
        self.dashboard.machine.show_snapshot(snap)
        if snap.error is not None or snap.queue is None:
            self._show_banner(f"{snap.error}. Retrying…")
            self.tray.set_state("error", f"Junmai AutoDev: {snap.error}", None)
            self.pause_button.setEnabled(False)
            return
        self._last_fresh = time.monotonic()
        self.banner.hide()
        self.history.add(snap.taken_at, snap.queue.depth, snap.sessions)
        self.dashboard.queue.show_snapshot(snap, self.history)
        self.sessions_view.show_sessions(snap.sessions, self.history)
        self.workers_view.show_workers(snap.workers)
        self.jobs_view.show_jobs(snap.jobs, snap.jobs_filter, snap.queue)
        self.workers_label.setText(fmt.count(len(snap.workers), "worker"))
        self._show_pause_state(snap.queue.paused)
        self._update_tray(snap)
        self._notify_changes(snap)
        self._maybe_refresh_results()
        self.snapshot_shown.emit(snap)

    def _poll_failed(self, message: str) -> None:
        self._show_banner(f"Could not read the engine's state: {message}. Retrying…")

    def _check_stale(self) -> None:
        silent = time.monotonic() - self._last_fresh
        if silent > STALE_AFTER_S and self.connection is not None:
            self._show_banner(
                f"The engine has not answered for {int(silent)} s (Redis busy or unreachable). "
                "The window keeps working; the numbers will catch up."
            )
            self.tray.set_state("error", "Junmai AutoDev: the engine is not answering", None)

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    def _show_pause_state(self, paused: bool) -> None:
        self.pause_button.setEnabled(True)
        self.pause_button.setText("Resume queue" if paused else "Pause queue")
        self.pause_button.setIcon(icon("resume" if paused else "pause"))
        self.pause_button.setProperty("paused", paused)

    def _update_tray(self, snap: PanelSnapshot) -> None:
        assert snap.queue is not None
        session = current_session(snap.sessions)
        parts = [f"{snap.queue.total_depth:,} queued"]
        if session is not None and not session.done and session.total:
            parts.append(f"{session.name} {fmt.percent(session.settled / session.total * 100)}")
        if snap.queue.paused:
            state, parts = "paused", ["paused", *parts]
        elif snap.busy:
            state = "running"
        else:
            state = "idle"
        self.tray.set_state(state, "Junmai AutoDev: " + " · ".join(parts), snap.queue.paused)

    def _notify_changes(self, snap: PanelSnapshot) -> None:
        assert snap.queue is not None
        for session in snap.sessions:
            was_done = self._seen_done.get(session.id)
            if was_done is False and session.done:
                problems = session.failed + session.unsupported
                extra = f", {problems:,} could not be processed" if problems else ""
                self._notify(
                    f"{session.name} is done", f"{fmt.count(session.total, 'photo')}{extra}."
                )
            self._seen_done[session.id] = session.done
        failed = snap.queue.jobs_by_status.get("failed", 0)
        if self._failed_seen is not None and failed > self._failed_seen:
            new = failed - self._failed_seen
            self._notify(
                "Junmai: a job failed" if new == 1 else f"Junmai: {new} jobs failed",
                "See Jobs → Failed for the reason; Retry runs them again.",
                error=True,
            )
        self._failed_seen = failed

    def _notify(self, title: str, message: str, error: bool = False) -> None:
        if not self.tray.notify(title, message, error):
            self.statusBar().showMessage(f"{title}: {message}", 10000)

    # --- queue actions ----------------------------------------------------------------------

    def _manager(self) -> JobQueueManager | None:
        if self.connection is None:
            self.notice.show_message(
                "Junmai is still starting its engine; try again in a moment.", "warning"
            )
            return None
        return self.connection.manager

    def _run(
        self, work: Callable[[JobQueueManager], Any], done: Callable[[Any], None] | None = None
    ) -> None:
        """Run an engine action off the UI thread, then refresh the panel."""
        manager = self._manager()
        if manager is None:
            return

        def succeeded(result: Any) -> None:
            if done is not None:
                done(result)
            if self.poller is not None:
                self.poller.poke()

        run_in_background(lambda: work(manager), succeeded, self._action_failed)

    def _action_failed(self, error: Exception) -> None:
        self.notice.show_message(f"That did not work: {error}", "error")

    def _toggle_pause(self) -> None:
        snap = self.last_snapshot
        if snap is not None and snap.queue is not None and snap.queue.paused:
            self.resume_queue()
        else:
            self.pause_queue()

    def pause_queue(self) -> None:
        self.pause_button.setEnabled(False)
        self._run(
            lambda m: m.pause_queue(),
            lambda _: self.statusBar().showMessage(
                "Queue paused: running jobs finish, nothing new starts.", 8000
            ),
        )

    def resume_queue(self) -> None:
        self.pause_button.setEnabled(False)
        self._run(
            lambda m: m.resume_queue(),
            lambda _: self.statusBar().showMessage("Queue resumed.", 8000),
        )

    def cancel_jobs(self, job_ids: list[int]) -> None:
        self._run(
            lambda m: m.cancel_jobs(job_ids),
            lambda ids: self.notice.show_message(f"Cancelled {fmt.count(len(ids), 'job')}."),
        )

    def retry_jobs(self, job_ids: list[int]) -> None:
        self._run(
            lambda m: m.retry_jobs(job_ids),
            lambda ids: self.notice.show_message(f"Retrying {fmt.count(len(ids), 'job')}."),
        )

    def retry_all_failed(self) -> None:
        self._run(
            lambda m: m.retry_all_failed(),
            lambda ids: self.notice.show_message(f"Retrying {fmt.count(len(ids), 'failed job')}."),
        )

    def confirm_purge(self, queue: str) -> None:
        """Purging drops waiting work: ask first (a window-modal sheet, not a blocking loop)."""
        depth = (
            self.last_snapshot.queue.depth.get(queue, 0)
            if self.last_snapshot and self.last_snapshot.queue
            else 0
        )
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Purge queue?",
            f"Drop the {fmt.count(depth, 'job')} waiting in the {queue.replace('_', ' ')} queue? "
            "They end as cancelled; running jobs are not affected.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        purge = box.addButton("Purge", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _: box.clickedButton() is purge and self.purge_queue(queue))
        self.purge_box = box
        box.open()

    def purge_queue(self, queue: str) -> None:
        self._run(
            lambda m: m.purge_queue(queue),
            lambda n: self.notice.show_message(f"Purged {fmt.count(n, 'job')}."),
        )

    def _tab_changed(self) -> None:
        self._update_wants()
        self._maybe_refresh_results()

    def _update_wants(self) -> None:
        """Read the (costly) jobs list only while the jobs table is on screen."""
        wanted = self.isVisible() and self.tabs.currentWidget() is self.jobs_view
        if self.collector is not None and self.collector.want_jobs != wanted:
            self.collector.want_jobs = wanted
            if wanted and self.poller is not None:
                self.poller.poke()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._update_wants()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._update_wants()

    def _jobs_filter_changed(self, status: str | None) -> None:
        if self.collector is not None:
            self.collector.jobs_filter = status
        if self.poller is not None:
            self.poller.poke()

    # --- drag and drop ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            self.drop_zone.setProperty("active", True)
            self._repolish(self.drop_zone)
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.drop_zone.setProperty("active", False)
        self._repolish(self.drop_zone)

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_zone.setProperty("active", False)
        self._repolish(self.drop_zone)
        items = dropped_items(event.mimeData())
        if items:
            event.acceptProposedAction()
            self.handle_drop(items)

    def handle_drop(self, items: list[str]) -> None:
        """Count the photos off the UI thread, then ask the short confirmation."""
        self.notice.show_message(f"Looking for photos in {fmt.count(len(items), 'dropped item')}…")
        run_in_background(lambda: inspect_drop(items), self._drop_inspected, self._action_failed)

    def _drop_inspected(self, plan: DropPlan) -> None:
        if plan.empty:
            problems = "<br>".join(html.escape(p) for p in plan.problems) or "nothing was dropped"
            self.notice.show_message(f"<b>Nothing to process.</b><br>{problems}", "warning")
            return
        self.notice.hide()
        default = SubmitChoice(
            False, self.prefs.default_priority, self.prefs.auto_select, self.prefs.default_preset
        )
        dialog = DropDialog(plan, self.presets, default, self)
        dialog.accepted.connect(lambda: self._submit(plan, dialog.choice()))
        self.drop_dialog = dialog
        dialog.open()

    def _submit(self, plan: DropPlan, choice: SubmitChoice) -> None:
        def submit(manager: JobQueueManager) -> tuple[list[SubmitResult], list[str]]:
            results: list[SubmitResult] = []
            errors: list[str] = []
            for folder in plan.folders:
                try:
                    results.append(
                        manager.submit_session_processing(
                            folder.path,
                            recursive=choice.recursive,
                            priority=choice.priority,
                            auto_select=choice.auto_select,
                            preset=choice.preset,
                        )
                    )
                except Exception as exc:  # one bad folder must not lose the others
                    errors.append(str(exc))
            if plan.files:
                try:
                    manager.submit_batch_processing(list(plan.files), priority=choice.priority)
                except Exception as exc:
                    errors.append(str(exc))
            return results, errors

        self._run(submit, self._submitted)

    def _submitted(self, outcome: tuple[list[SubmitResult], list[str]]) -> None:
        results, errors = outcome
        lines = [
            f"{Path(r.folder).name}: {fmt.count(r.new, 'photo')} queued"
            + (f" ({r.found - r.new:,} already done)" if r.found > r.new else "")
            for r in results
        ]
        lines += [html.escape(e) for e in errors]
        self.notice.show_message(
            "<br>".join(lines),
            "error" if errors and not results else "warning" if errors else "info",
        )
        self.submitted.emit(results)

    # --- results ----------------------------------------------------------------------------

    def show_results(self, session_id: int) -> None:
        self.tabs.setCurrentWidget(self.results_view)
        self.results_view.session_id = session_id
        self._results_settled = None
        self._load_results()

    def _load_results(self) -> None:
        session_id = self.results_view.session_id
        if session_id is None or self.connection is None or self._results_loading:
            return
        manager = self.connection.manager
        name = (
            next((s.name for s in self.last_snapshot.sessions if s.id == session_id), "")
            if self.last_snapshot
            else ""
        )
        self._results_loading = True

        def loaded(cards: tuple[PhotoCard, ...]) -> None:
            self._results_loading = False
            self._results_loaded_at = time.monotonic()
            if self.results_view.session_id == session_id:
                self.results_view.show_cards(session_id, name or f"Session {session_id}", cards)

        def failed(error: Exception) -> None:
            self._results_loading = False
            self._action_failed(error)

        run_in_background(lambda: load_cards(manager, session_id), loaded, failed)

    def _maybe_refresh_results(self) -> None:
        """Reload a running session's cards now and then while the Results tab is shown."""
        session_id = self.results_view.session_id
        if (
            session_id is None
            or self.tabs.currentWidget() is not self.results_view
            or self.last_snapshot is None
        ):
            return
        session = next((s for s in self.last_snapshot.sessions if s.id == session_id), None)
        marker = None if session is None else session.settled + session.groups * 100_000
        if (
            marker != self._results_settled
            and time.monotonic() - self._results_loaded_at > RESULTS_REFRESH_S
        ):
            self._results_settled = marker
            self._load_results()

    def rate_photos(self, photo_ids: list[int], rating: int | None, flag: str | None) -> None:
        """Stars and/or pick/reject, written to the database and each photo's XMP."""

        def write(manager: JobQueueManager) -> list[int]:
            for photo_id in photo_ids:
                manager.set_photo_rating(photo_id, rating=rating, flag=flag)
            return photo_ids

        def written(ids: list[int]) -> None:
            for photo_id in ids:
                card = self.results_view.card(photo_id)
                if card is not None:
                    self.results_view.update_card(rated(card, rating, flag))

        self._run(write, written)

    def open_photo(self, path: str) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def open_export_folder(self) -> None:
        cards = self.results_view.model.all_cards
        session = next(
            (
                s
                for s in (self.last_snapshot.sessions if self.last_snapshot else ())
                if s.id == self.results_view.session_id
            ),
            None,
        )
        exported = [Path(c.export_path).parent for c in cards if c.export_path]
        candidates = exported[:1] + ([Path(session.folder) / "Junmai Exports"] if session else [])

        def find() -> Path | None:
            return next((p for p in candidates if p.is_dir()), None)

        def found(folder: Path | None) -> None:
            if folder is None:
                self.notice.show_message(
                    "No exports yet for this session: they appear once photos are developed.",
                    "warning",
                )
            else:
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

        run_in_background(find, found, self._action_failed)

    # --- settings ---------------------------------------------------------------------------

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.prefs.with_engine_values(self.settings), self.presets, self)
        dialog.accepted.connect(lambda: self._apply_prefs(dialog.result_prefs))
        self.settings_dialog = dialog
        dialog.open()

    def _apply_prefs(self, new: Preferences | None) -> None:
        if new is None:
            return
        old = self.prefs.with_engine_values(self.settings)
        save_preferences(self.store, new)
        self.prefs = new
        if engine_fields_differ(old, new):
            self.restart_engine(new.engine_settings())

    # --- showing, hiding, quitting ----------------------------------------------------------

    def show_from_tray(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing keeps Junmai working in the tray; a real quit (ours, or Qt's quit(), which
        sends close events first) is accepted once shutdown has begun."""
        if self._quitting:
            self.store.setValue("window/geometry", self.saveGeometry())
            event.accept()
            return
        event.ignore()
        if self.tray.available:
            self.hide()
            if not self._explained_tray:
                self._explained_tray = True
                self.tray.notify(
                    "Junmai keeps working",
                    "The queue runs on in the tray. Right-click the icon to pause or quit.",
                )
        else:
            self.request_quit()

    def request_quit(self) -> None:
        """Quit from the window: ask when this window runs a busy engine."""
        snap = self.last_snapshot
        owner_busy = (
            self.connection is not None and self.connection.owner and snap is not None and snap.busy
        )
        if not owner_busy:
            self.shutdown()
            return
        assert snap is not None and snap.queue is not None
        open_jobs = sum(
            snap.queue.jobs_by_status.get(s, 0) for s in ("pending", "queued", "processing")
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Junmai is still working",
            f"{fmt.count(open_jobs, 'job')} still to do. Stop now (they resume the next time "
            "Junmai starts) or keep working in the tray?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        stop = box.addButton("Stop now", QMessageBox.ButtonRole.DestructiveRole)
        keep = (
            box.addButton("Keep working in the tray", QMessageBox.ButtonRole.AcceptRole)
            if self.tray.available
            else None
        )
        box.setDefaultButton(keep or QMessageBox.StandardButton.Cancel)

        def decided(_: int) -> None:
            if box.clickedButton() is stop:
                self.shutdown()
            elif keep is not None and box.clickedButton() is keep:
                self.hide()

        box.finished.connect(decided)
        self.quit_box = box
        box.open()

    def shutdown(self) -> None:
        """Quit for real: stop polling, stop the engine this window owns (or disconnect),
        then emit `closed`. The tray's Quit calls this directly: it always quits."""
        if self._quitting:
            return
        self._quitting = True
        self.store.setValue("window/geometry", self.saveGeometry())
        self.hide()
        self._stop_polling()
        self.statusBar().showMessage("Stopping…")
        if self._starting:
            return  # _connected / _start_failed finish the quit
        self._close_connection()

    def _close_connection(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            self._finish_quit()
            return
        run_in_background(lambda: close_engine(connection), self._finish_quit, self._quit_failed)

    def _quit_failed(self, error: Exception) -> None:
        log.error("the engine did not stop cleanly: %s", error, exc_info=error)
        self._finish_quit()

    def _finish_quit(self, _: object = None) -> None:
        self.tray.hide()
        self.close()
        self.closed.emit()

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)
