"""The workers table: every worker on this Redis (this machine's and other machines'), with
the state its supervisor and its own heartbeat report: a busy worker shows busy."""

from __future__ import annotations

import time
from pathlib import PurePath

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.snapshots import WorkerInfo
from gui import format as fmt
from gui.icons import icon
from gui.tables import Column, RowsModel, SnapshotTable

STATES = ("idle", "busy", "paused", "starting", "restarting", "dead")


def state_text(worker: WorkerInfo) -> str:
    """'busy', 'restarting (killed by SIGKILL)'."""
    if worker.state in ("restarting", "dead") and worker.note:
        return f"{worker.state} ({worker.note})"
    return worker.state


def state_icon(worker: WorkerInfo) -> QIcon | None:
    return icon(f"state-{worker.state}") if worker.state in STATES else None


def activity_text(worker: WorkerInfo) -> str:
    """'IMG_4411.CR2 · quality' for a busy worker."""
    if worker.job_id is None:
        return ""
    what = PurePath(worker.photo).name if worker.photo else (worker.task or f"job {worker.job_id}")
    return f"{what} · {worker.stage}" if worker.stage else what


def heartbeat_text(worker: WorkerInfo) -> str:
    if worker.last_heartbeat is None:
        return "none"
    return fmt.ago(time.time() - worker.last_heartbeat)


COLUMNS: list[Column[WorkerInfo]] = [
    Column("Worker", lambda w: w.name),
    Column("Host", lambda w: w.host),
    Column("PID", lambda w: str(w.pid) if w.pid else "", numeric=True),
    Column("State", state_text, icon=state_icon, tooltip=lambda w: w.note),
    Column("Working on", activity_text, tooltip=lambda w: w.photo, stretch=True),
    Column("Done", lambda w: f"{w.processed:,}", numeric=True),
    Column("Failed", lambda w: f"{w.failed:,}", numeric=True),
    Column("Memory", lambda w: fmt.size(w.rss) if w.rss else "", numeric=True),
    Column("CPU", lambda w: fmt.percent(w.cpu_pct) if w.cpu_pct is not None else "", numeric=True),
    Column("Restarts", lambda w: str(w.restarts), numeric=True),
    Column("Heartbeat", heartbeat_text),
]


class WorkersView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: RowsModel[WorkerInfo] = RowsModel(COLUMNS, key=lambda w: w.name)
        self.table = SnapshotTable(self.model)
        self.table.setObjectName("workersTable")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)

    def show_workers(self, workers: tuple[WorkerInfo, ...]) -> None:
        self.table.set_rows(workers)

    def state_of(self, name: str) -> str | None:
        """The state shown for a worker (for tests and the tray tooltip)."""
        number = self.model.row_of(name)
        return None if number is None else self.model.rows[number].state
