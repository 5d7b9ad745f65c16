"""The sessions list: each dropped shoot with a progress bar, counts and how long it has left;
"Show results" opens its thumbnails."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from engine.snapshots import SessionInfo
from gui import format as fmt
from gui.history import History
from gui.icons import icon
from gui.tables import Column, RowsModel, SnapshotTable


def progress_pct(session: SessionInfo) -> int:
    return round(session.settled / session.total * 100) if session.total else 100


def problems_text(session: SessionInfo) -> str:
    parts = []
    if session.failed:
        parts.append(f"{session.failed:,} failed")
    if session.unsupported:
        parts.append(f"{session.unsupported:,} not photos")
    if session.cancelled:
        parts.append(f"{session.cancelled:,} cancelled")
    return ", ".join(parts)


class ProgressDelegate(QStyledItemDelegate):
    """Draws the UserRole percentage as a progress bar."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        value = index.data(Qt.ItemDataRole.UserRole)
        if value is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        rect: QRect = option.rect  # type: ignore[attr-defined]
        bar.rect = rect.adjusted(4, 5, -4, -5)  # type: ignore[attr-defined]
        bar.minimum, bar.maximum, bar.progress = 0, 100, int(value)  # type: ignore[attr-defined]
        bar.text = f"{int(value)} %"  # type: ignore[attr-defined]
        bar.textVisible = True  # type: ignore[attr-defined]
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal  # type: ignore[attr-defined]
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class SessionsView(QWidget):
    """Sessions, newest first. Emits `open_results(session_id)`."""

    open_results = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: History | None = None
        columns: list[Column[SessionInfo]] = [
            Column("Session", lambda s: s.name, tooltip=lambda s: s.folder),
            Column("Progress", lambda s: "", value=progress_pct),
            Column("Photos", lambda s: f"{s.settled:,} / {s.total:,}", numeric=True),
            Column("Problems", problems_text, tooltip=self._failures_tooltip),
            Column("Status", self._status_text, stretch=True),
        ]
        self.model: RowsModel[SessionInfo] = RowsModel(columns, key=lambda s: s.id)
        self.table = SnapshotTable(self.model)
        self.table.setObjectName("sessionsTable")
        self.table.setSelectionMode(SnapshotTable.SelectionMode.SingleSelection)
        self.table.setItemDelegateForColumn(1, ProgressDelegate(self.table))
        self.table.setColumnWidth(0, 220)
        self.table.setColumnWidth(1, 220)
        self.table.setColumnWidth(3, 160)
        self.table.doubleClicked.connect(lambda _: self._emit_open())

        self.results_button = QPushButton(icon("results"), "Show results")
        self.results_button.setEnabled(False)
        self.results_button.clicked.connect(self._emit_open)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        buttons = QHBoxLayout()
        buttons.addWidget(self.results_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.table)

    def show_sessions(self, sessions: tuple[SessionInfo, ...], history: History) -> None:
        self.history = history
        self.table.set_rows(sessions)

    def _status_text(self, session: SessionInfo) -> str:
        if session.done:
            return "done"
        if self.history is not None:
            eta = self.history.eta_s(session)
            if eta is not None:
                return f"working · done in ~{fmt.duration(eta)}"
        return "working" if session.settled else "waiting"

    @staticmethod
    def _failures_tooltip(session: SessionInfo) -> str | None:
        if not session.failures:
            return None
        lines = [f"{name}: {error}" for name, error in session.failures[:15]]
        more = len(session.failures) - 15
        return "\n".join(lines + ([f"… and {more} more"] if more > 0 else []))

    def _update_buttons(self) -> None:
        self.results_button.setEnabled(bool(self.table.selected_rows()))

    def _emit_open(self) -> None:
        rows = self.table.selected_rows()
        if rows:
            self.open_results.emit(rows[0].id)
