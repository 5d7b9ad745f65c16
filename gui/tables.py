"""A read-only table of snapshot rows that keeps the selection (by row key) when new
snapshots arrive once a second."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

Row = TypeVar("Row")
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column(Generic[Row]):
    title: str
    text: Callable[[Row], str]
    icon: Callable[[Row], QIcon | None] | None = None
    tooltip: Callable[[Row], str | None] | None = None
    value: Callable[[Row], Any] | None = None  # for delegates (Qt.UserRole)
    numeric: bool = False
    stretch: bool = False


class RowsModel(QAbstractTableModel, Generic[Row]):
    """Rows of frozen snapshots; `key(row)` identifies a row across updates."""

    def __init__(self, columns: Sequence[Column[Row]], key: Callable[[Row], Hashable]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.key = key
        self.rows: list[Row] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None

    def data(self, index: _Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.DecorationRole and column.icon is not None:
            return column.icon(row)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.UserRole and column.value is not None:
            return column.value(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def set_rows(self, rows: Sequence[Row]) -> bool:
        """Show new rows. Returns True when the row set changed (the model was reset)."""
        rows = list(rows)
        if rows == self.rows:
            return False
        if [self.key(r) for r in rows] == [self.key(r) for r in self.rows]:
            self.rows = rows
            if rows:
                last = self.index(len(rows) - 1, len(self.columns) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return False
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()
        return True

    def row_of(self, key: Hashable) -> int | None:
        for number, row in enumerate(self.rows):
            if self.key(row) == key:
                return number
        return None


class SnapshotTable(QTableView):
    """A table over a `RowsModel` whose selection survives updates."""

    def __init__(self, model: RowsModel[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows_model = model
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(26)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for number, column in enumerate(model.columns):
            if column.stretch:
                header.setSectionResizeMode(number, QHeaderView.ResizeMode.Stretch)

    def selected_rows(self) -> list[Any]:
        numbers = sorted({i.row() for i in self.selectionModel().selectedRows()})
        return [self.rows_model.rows[n] for n in numbers if n < len(self.rows_model.rows)]

    def set_rows(self, rows: Sequence[Any]) -> None:
        keys = [self.rows_model.key(r) for r in self.selected_rows()]
        current = self.currentIndex()
        current_key = (
            self.rows_model.key(self.rows_model.rows[current.row()])
            if current.isValid() and current.row() < len(self.rows_model.rows)
            else None
        )
        if not self.rows_model.set_rows(rows):
            return
        selection = QItemSelection()
        last_column = self.rows_model.columnCount() - 1
        for key in keys:
            number = self.rows_model.row_of(key)
            if number is not None:
                selection.select(
                    self.rows_model.index(number, 0), self.rows_model.index(number, last_column)
                )
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        self.selectionModel().select(selection, flags)
        if current_key is not None:
            number = self.rows_model.row_of(current_key)
            if number is not None:
                self.selectionModel().setCurrentIndex(
                    self.rows_model.index(number, 0), QItemSelectionModel.SelectionFlag.NoUpdate
                )
