"""The jobs table, filterable by status, with the selected job's details and the actions that
steer the queue: Cancel, Retry, Retry all failed, Purge a queue. Each button is enabled only
when its action applies; the main window runs the actions off the UI thread."""

from __future__ import annotations

from pathlib import PurePath

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.celery_app import QUEUES
from engine.snapshots import JobInfo, QueueStats
from gui.dashboard import QUEUE_LABELS
from gui.icons import icon
from gui.tables import Column, RowsModel, SnapshotTable

FILTERS: tuple[tuple[str, str | None], ...] = (
    ("All", None),
    ("Queued", "queued"),
    ("Running", "processing"),
    ("Waiting to retry", "pending"),
    ("Failed", "failed"),
    ("Completed", "completed"),
    ("Cancelled", "cancelled"),
)
CANCELLABLE = {"pending", "queued", "processing"}
STATUS_WORDS = {"processing": "running", "pending": "waiting"}


def _when(job: JobInfo) -> str:
    moment = job.finished_at or job.started_at or job.created_at
    return moment.astimezone().strftime("%H:%M:%S")


def _attempts(job: JobInfo) -> str:
    return f"{job.attempts}/{job.max_attempts}" if job.attempts else ""


COLUMNS: list[Column[JobInfo]] = [
    Column("Job", lambda j: str(j.id), numeric=True),
    Column(
        "Photo",
        lambda j: PurePath(j.photo_path).name if j.photo_path else "",
        tooltip=lambda j: j.photo_path,
    ),
    Column("Task", lambda j: j.task),
    Column("Status", lambda j: STATUS_WORDS.get(j.status, j.status)),
    Column("Attempt", _attempts, numeric=True),
    Column("Worker", lambda j: j.worker or ""),
    Column("Time", _when),
    Column(
        "Error",
        lambda j: (j.error or "").splitlines()[0] if j.error else "",
        tooltip=lambda j: j.error,
        stretch=True,
    ),
]


def job_details(job: JobInfo) -> str:
    """Everything about one job, for the details pane."""
    lines = [
        f"Job {job.id} · {job.task} · {STATUS_WORDS.get(job.status, job.status)}",
        f"Photo: {job.photo_path or '—'}",
        f"Queue: {job.queue} (priority {job.priority})",
        f"Attempts: {job.attempts} of {job.max_attempts}",
        f"Worker: {job.worker or '—'}",
        f"Created: {job.created_at.astimezone():%Y-%m-%d %H:%M:%S}",
    ]
    if job.started_at:
        lines.append(f"Started: {job.started_at.astimezone():%Y-%m-%d %H:%M:%S}")
    if job.finished_at:
        lines.append(f"Finished: {job.finished_at.astimezone():%Y-%m-%d %H:%M:%S}")
    if job.error:
        lines += ["", "Error:", job.error]
    if job.traceback:
        lines += ["", "Traceback:", job.traceback]
    return "\n".join(lines)


class JobsView(QWidget):
    """Signals carry what to do; the window does it off the UI thread."""

    filter_changed = Signal(object)  # a status or None
    cancel_requested = Signal(list)  # job ids
    retry_requested = Signal(list)  # job ids
    retry_all_requested = Signal()
    purge_requested = Signal(str)  # queue name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status_filter: str | None = None
        self.queue_stats: QueueStats | None = None

        filters = QHBoxLayout()
        filters.setSpacing(4)
        self.filter_group = QButtonGroup(self)
        self.filter_buttons: dict[str | None, QPushButton] = {}
        for title, status in FILTERS:
            button = QPushButton(title)
            button.setCheckable(True)
            button.setObjectName("filterChip")
            button.setChecked(status is None)
            self.filter_group.addButton(button)
            button.clicked.connect(lambda _=False, s=status: self.set_filter(s))
            filters.addWidget(button)
            self.filter_buttons[status] = button
        filters.addStretch(1)

        self.cancel_button = QPushButton(icon("cancel"), "Cancel")
        self.cancel_button.setToolTip("Cancel the selected jobs (Del)")
        self.retry_button = QPushButton(icon("retry"), "Retry")
        self.retry_button.setToolTip("Run the selected failed jobs again (Ctrl+R)")
        self.retry_all_button = QPushButton(icon("retry-all"), "Retry all failed")
        self.purge_button = QToolButton()
        self.purge_button.setIcon(icon("purge"))
        self.purge_button.setText("Purge queue…")
        self.purge_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.purge_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.purge_menu = QMenu(self.purge_button)
        self.purge_actions: dict[str, QAction] = {}
        for queue in QUEUES:
            action = self.purge_menu.addAction(QUEUE_LABELS[queue])
            action.triggered.connect(lambda _=False, q=queue: self.purge_requested.emit(q))
            self.purge_actions[queue] = action
        self.purge_button.setMenu(self.purge_menu)

        self.cancel_button.clicked.connect(self._cancel)
        self.retry_button.clicked.connect(self._retry)
        self.retry_all_button.clicked.connect(self.retry_all_requested.emit)
        cancel_key = QAction(self, shortcut=QKeySequence(QKeySequence.StandardKey.Delete))
        cancel_key.triggered.connect(self._cancel)
        retry_key = QAction(self, shortcut=QKeySequence("Ctrl+R"))
        retry_key.triggered.connect(self._retry)
        self.addActions([cancel_key, retry_key])

        actions = QHBoxLayout()
        for widget in (
            self.cancel_button,
            self.retry_button,
            self.retry_all_button,
            self.purge_button,
        ):
            actions.addWidget(widget)
        actions.addStretch(1)

        self.model: RowsModel[JobInfo] = RowsModel(COLUMNS, key=lambda j: j.id)
        self.table = SnapshotTable(self.model)
        self.table.setObjectName("jobsTable")
        self.table.setColumnWidth(1, 200)
        self.table.setColumnWidth(2, 130)
        self.details = QPlainTextEdit()
        self.details.setObjectName("jobDetails")
        self.details.setReadOnly(True)
        self.details.setPlaceholderText(
            "Select a job to see its photo, attempts, error and traceback."
        )
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addWidget(split, 1)
        self._update_buttons()

    def show_jobs(
        self, jobs: tuple[JobInfo, ...] | None, jobs_filter: str | None, queue: QueueStats | None
    ) -> None:
        """New counts, and new rows unless they were not read or were read for another filter."""
        self.queue_stats = queue
        if jobs is not None and jobs_filter == self.status_filter:
            self.table.set_rows(jobs)
            self._selection_changed()
        self._update_buttons()

    def select_jobs(self, job_ids: list[int]) -> None:
        """Select these jobs (those shown), as a click and Ctrl+clicks would."""
        selection = QItemSelection()
        last = self.model.columnCount() - 1
        for job_id in job_ids:
            number = self.model.row_of(job_id)
            if number is not None:
                selection.select(self.model.index(number, 0), self.model.index(number, last))
        self.table.selectionModel().select(
            selection, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )

    def set_filter(self, status: str | None) -> None:
        """Show only jobs with this status (None: all)."""
        if status == self.status_filter:
            return
        self.status_filter = status
        self.filter_buttons[status].setChecked(True)
        self.table.set_rows([])
        self.filter_changed.emit(status)

    def _selected(self) -> list[JobInfo]:
        return self.table.selected_rows()

    def _cancel(self) -> None:
        ids = [j.id for j in self._selected() if j.status in CANCELLABLE]
        if ids:
            self.cancel_requested.emit(ids)

    def _retry(self) -> None:
        ids = [j.id for j in self._selected() if j.status == "failed"]
        if ids:
            self.retry_requested.emit(ids)

    def _selection_changed(self) -> None:
        selected = self._selected()
        if len(selected) == 1:
            text = job_details(selected[0])
            if text != self.details.toPlainText():
                self.details.setPlainText(text)
        elif len(selected) > 1:
            self.details.setPlainText(f"{len(selected)} jobs selected")
        else:
            self.details.clear()
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = self._selected()
        self.cancel_button.setEnabled(any(j.status in CANCELLABLE for j in selected))
        self.retry_button.setEnabled(any(j.status == "failed" for j in selected))
        stats = self.queue_stats
        failed = stats.jobs_by_status.get("failed", 0) if stats else 0
        self.retry_all_button.setEnabled(failed > 0)
        self.retry_all_button.setText(
            f"Retry all failed ({failed:,})" if failed else "Retry all failed"
        )
        for queue, action in self.purge_actions.items():
            depth = stats.depth.get(queue, 0) if stats else 0
            action.setEnabled(depth > 0)
            action.setText(f"{QUEUE_LABELS[queue]} ({depth:,} waiting)")
        self.purge_button.setEnabled(bool(stats and stats.total_depth > 0))
