"""A session's results: the thumbnail grid with stars, flags, problem badges, groups and best
picks; filters (picks, needs review, rejects); rating with the mouse or keys 0-5, P, X, U
(written to the database and the photo's XMP by the engine); double-click opens the photo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QImageReader,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from engine.manager import JobQueueManager
from engine.snapshots import PhotoSummary
from gui import format as fmt
from gui.background import run_in_background
from gui.icons import icon

THUMB = QSize(176, 132)
CELL = QSize(196, 190)
STAR_BOX = 16
_Index = QModelIndex | QPersistentModelIndex
PICK, REJECT = "Green", "Red"  # the engine stores flags as Lightroom colour labels
GROUP_COLOURS = ("#2f6feb", "#d9480f", "#1f9d55", "#9b59b6", "#d08a00", "#16a2b8", "#c2185b")
FILTERS = ("All", "Picks", "Needs review", "Rejects")


@dataclass(frozen=True)
class PhotoCard(PhotoSummary):
    """What the grid shows of one photo: the engine's summary, and how the grid reads it."""

    @property
    def picked(self) -> bool:
        return self.label == PICK or (self.label is None and self.is_best)

    @property
    def rejected(self) -> bool:
        return self.label == REJECT

    @property
    def problems(self) -> tuple[str, ...]:
        found = []
        if self.blurry:
            found.append("blurry")
        if self.eyes_closed:
            found.append("eyes closed")
        if self.overexposed:
            found.append("overexposed")
        if self.underexposed:
            found.append("underexposed")
        if self.status in ("failed", "unsupported"):
            found.append(self.status)
        return tuple(found)

    @property
    def needs_review(self) -> bool:
        """Undecided by the photographer, and something is wrong with it."""
        return self.label is None and bool(self.problems)

    def matches(self, filter_name: str) -> bool:
        return {
            "Picks": self.picked,
            "Needs review": self.needs_review,
            "Rejects": self.rejected,
        }.get(filter_name, True)


def load_cards(manager: JobQueueManager, session_id: int) -> tuple[PhotoCard, ...]:
    """The session's photos as cards (blocking: run off the UI thread)."""
    return tuple(PhotoCard(**asdict(p)) for p in manager.photo_summaries(session_id))


def load_thumbnails(paths: Sequence[str]) -> dict[str, QImage]:
    """Decode thumbnails (QImage is safe off the UI thread), scaled to the grid, upright."""
    images: dict[str, QImage] = {}
    for path in paths:
        reader = QImageReader(path)
        reader.setAutoTransform(True)
        image = reader.read()
        images[path] = (
            image.scaled(
                THUMB,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            if not image.isNull()
            else image
        )
    return images


class ResultsModel(QAbstractListModel):
    """The filtered cards; thumbnails are loaded in the background as cells are painted."""

    def __init__(self) -> None:
        super().__init__()
        self.all_cards: tuple[PhotoCard, ...] = ()
        self.cards: list[PhotoCard] = []
        self.filter_name = "All"
        self._pixmaps: dict[str, QPixmap | None] = {}  # None: loading or unreadable
        self._wanted: list[str] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.cards)

    def data(self, index: _Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        card = self.cards[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(card)
        if role == Qt.ItemDataRole.ToolTipRole:
            return card_tooltip(card)
        if role == Qt.ItemDataRole.DisplayRole:
            return Path(card.path).name
        return None

    def card_at(self, row: int) -> PhotoCard:
        return self.cards[row]

    def pixmap_for(self, card: PhotoCard) -> QPixmap | None:
        """The card's thumbnail, or None while it loads (the delegate asks the model directly:
        no QVariant round trip per painted cell)."""
        return self._pixmap(card)

    def set_cards(self, cards: tuple[PhotoCard, ...]) -> None:
        self.all_cards = cards
        self._refilter()

    def set_filter(self, name: str) -> None:
        self.filter_name = name
        self._refilter()

    def replace_card(self, card: PhotoCard) -> None:
        self.all_cards = tuple(card if c.id == card.id else c for c in self.all_cards)
        for row, shown in enumerate(self.cards):
            if shown.id == card.id:
                self.cards[row] = card
                self.dataChanged.emit(self.index(row), self.index(row))

    def _refilter(self) -> None:
        cards = [c for c in self.all_cards if c.matches(self.filter_name)]
        if [c.id for c in cards] == [c.id for c in self.cards]:
            if cards != self.cards:  # same photos, new ratings or flags: no new layout
                self.cards = cards
                self.dataChanged.emit(self.index(0), self.index(len(cards) - 1))
            return
        self.beginResetModel()
        self.cards = cards
        self.endResetModel()

    def _pixmap(self, card: PhotoCard) -> QPixmap | None:
        if not card.thumbnail:
            return None
        if card.thumbnail not in self._pixmaps:
            self._pixmaps[card.thumbnail] = None
            self._wanted.append(card.thumbnail)
            if len(self._wanted) == 1:
                QTimer.singleShot(0, self._load_wanted)  # batch the cells painted together
        return self._pixmaps[card.thumbnail]

    def _load_wanted(self) -> None:
        """Load every thumbnail asked for since the last batch, in one background call."""
        batch, self._wanted = self._wanted, []
        if batch:
            run_in_background(lambda: load_thumbnails(batch), self._thumbnails_loaded)

    def _thumbnails_loaded(self, images: dict[str, QImage]) -> None:
        for path, image in images.items():
            self._pixmaps[path] = None if image.isNull() else QPixmap.fromImage(image)
        if self.cards:
            self.dataChanged.emit(self.index(0), self.index(len(self.cards) - 1))


def card_tooltip(card: PhotoCard) -> str:
    lines = [card.path]
    if card.score is not None:
        lines.append(f"Score {card.score:.1f}" + (f" · {card.reason}" if card.reason else ""))
    if card.problems:
        lines.append("Problems: " + ", ".join(card.problems))
    if card.error:
        lines.append(card.error)
    if card.group_id is not None:
        lines.append(f"Group {card.group_id}" + (" · best of its group" if card.is_best else ""))
    return "\n".join(lines)


class CardDelegate(QStyledItemDelegate):
    """Paints one card: thumbnail, group stripe, best-pick badge, problems, stars, flag."""

    def __init__(self, model: ResultsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return CELL

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        card = self.model.card_at(index.row())
        pixmap = self.model.pixmap_for(card)
        rect: QRect = option.rect.adjusted(4, 4, -4, -4)  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(
            QPen(QColor("#2f6feb") if selected else QColor("#dde3ea"), 2 if selected else 1)
        )
        painter.setBrush(QColor("#eef4ff") if selected else QColor("#ffffff"))
        painter.drawRoundedRect(rect, 6, 6)
        if card.group_id is not None:
            colour = QColor(GROUP_COLOURS[card.group_id % len(GROUP_COLOURS)])
            painter.fillRect(QRect(rect.left() + 1, rect.top() + 8, 4, rect.height() - 16), colour)

        thumb_area = QRect(rect.left() + 6, rect.top() + 6, rect.width() - 12, THUMB.height())
        if pixmap is not None:
            scaled = pixmap.size().scaled(thumb_area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(QPoint(0, 0), scaled)
            target.moveCenter(thumb_area.center())
            if card.rejected:
                painter.setOpacity(0.35)
            painter.drawPixmap(target, pixmap)
            painter.setOpacity(1.0)
        else:
            painter.fillRect(thumb_area, QColor("#f1f3f6"))
            painter.setPen(QColor("#8a96a8"))
            waiting = (
                "no preview"
                if card.status in ("failed", "unsupported", "completed")
                else "working…"
            )
            painter.drawText(thumb_area, Qt.AlignmentFlag.AlignCenter, waiting)

        small = QFont(option.font)  # type: ignore[attr-defined]
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        painter.setFont(small)
        if card.is_best:
            _badge(painter, QPoint(thumb_area.left() + 4, thumb_area.top() + 4), "BEST", "#d08a00")
        x = thumb_area.left() + 4
        for problem in card.problems:
            colour = (
                "#c0392b"
                if problem in ("blurry", "eyes closed", "failed", "unsupported")
                else "#d08a00"
            )
            x += _badge(painter, QPoint(x, thumb_area.bottom() - 20), problem, colour) + 4

        line_y = thumb_area.bottom() + 6
        stars = card.rating or 0
        painter.setPen(QColor("#d08a00"))
        star_font = QFont(option.font)  # type: ignore[attr-defined]
        star_font.setPointSizeF(star_font.pointSizeF() + 1)
        painter.setFont(star_font)
        for n in range(5):
            painter.drawText(
                QRect(rect.left() + 8 + n * STAR_BOX, line_y, STAR_BOX, STAR_BOX + 4),
                Qt.AlignmentFlag.AlignCenter,
                "★" if n < stars else "☆",
            )
        if card.label in (PICK, REJECT):
            flag = icon("pick" if card.label == PICK else "reject")
            flag.paint(painter, QRect(rect.right() - 24, line_y, 18, 18))
        painter.setFont(small)
        painter.setPen(QColor("#5d6b7e"))
        name_rect = QRect(rect.left() + 8, line_y + 20, rect.width() - 16, 16)
        name = painter.fontMetrics().elidedText(
            Path(card.path).name, Qt.TextElideMode.ElideMiddle, name_rect.width()
        )
        painter.drawText(
            name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name
        )
        painter.restore()


def _badge(painter: QPainter, at: QPoint, text: str, colour: str) -> int:
    """A small filled label; returns its width."""
    width = painter.fontMetrics().horizontalAdvance(text) + 10
    box = QRect(at.x(), at.y(), width, 16)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawRoundedRect(box, 4, 4)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    return width


def star_at(card_rect: QRect, pos: QPoint) -> int | None:
    """Which star (1-5) of a card a click hit, or None."""
    top = card_rect.top() + 4 + 6 + THUMB.height() + 6
    if not top <= pos.y() <= top + STAR_BOX + 4:
        return None
    n = (pos.x() - (card_rect.left() + 4 + 8)) // STAR_BOX
    return int(n) + 1 if 0 <= n < 5 else None


class PhotoGrid(QListView):
    """The grid; keys 0-5 rate, P picks, X rejects, U clears the flag; a click on a star rates."""

    rate = Signal(list, object, object)  # photo ids, rating or None, flag ("" = keep)
    open_photo = Signal(str)

    def __init__(self, model: ResultsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results = model
        self.setModel(model)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)  # big sessions lay out in steps
        self.setBatchSize(400)
        self.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.setSpacing(4)
        self.setItemDelegate(CardDelegate(model, self))
        self.doubleClicked.connect(self._open)

    def selected_cards(self) -> list[PhotoCard]:
        rows = sorted({i.row() for i in self.selectionModel().selectedIndexes()})
        return [self.results.card_at(row) for row in rows]

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ids = [c.id for c in self.selected_cards()]
        key = event.key()
        if (
            ids
            and Qt.Key.Key_0 <= key <= Qt.Key.Key_5
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.rate.emit(ids, key - Qt.Key.Key_0, "")
        elif ids and key == Qt.Key.Key_P:
            self.rate.emit(ids, None, "pick")
        elif ids and key == Qt.Key.Key_X:
            self.rate.emit(ids, None, "reject")
        elif ids and key == Qt.Key.Key_U:
            self.rate.emit(ids, None, None)
        else:
            super().keyPressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        if index.isValid() and event.button() == Qt.MouseButton.LeftButton:
            stars = star_at(self.visualRect(index), event.position().toPoint())
            if stars is not None:
                card = self.results.card_at(index.row())
                self.rate.emit([card.id], 0 if card.rating == stars else stars, "")
        super().mouseReleaseEvent(event)

    def _open(self, index: QModelIndex) -> None:
        self.open_photo.emit(self.results.card_at(index.row()).path)


class ResultsView(QWidget):
    """Header (session, counts, filters, export folder) over the grid."""

    open_export_folder = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session_id: int | None = None
        self.title = QLabel("Pick a session in Sessions to see its photos.")
        self.title.setObjectName("sectionTitle")
        self.counts = QLabel()
        self.counts.setObjectName("caption")
        self.filter_group = QButtonGroup(self)
        self.filter_buttons: dict[str, QPushButton] = {}
        filters = QHBoxLayout()
        filters.setSpacing(4)
        for name in FILTERS:
            button = QPushButton(name)
            button.setCheckable(True)
            button.setObjectName("filterChip")
            button.setChecked(name == "All")
            button.clicked.connect(lambda _=False, n=name: self.model.set_filter(n))
            self.filter_group.addButton(button)
            filters.addWidget(button)
            self.filter_buttons[name] = button
        filters.addStretch(1)
        self.hint = QLabel("0–5 stars · P pick · X reject · U unflag · double-click opens")
        self.hint.setObjectName("caption")
        filters.addWidget(self.hint)
        self.export_button = QPushButton(icon("folder"), "Open export folder")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.open_export_folder.emit)
        filters.addWidget(self.export_button)

        self.model = ResultsModel()
        self.grid = PhotoGrid(self.model)
        self.grid.setObjectName("photoGrid")

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.counts)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addLayout(filters)
        layout.addWidget(self.grid, 1)

    def show_cards(self, session_id: int, name: str, cards: tuple[PhotoCard, ...]) -> None:
        if session_id != self.session_id:
            self.grid.clearSelection()
        self.session_id = session_id
        self.title.setText(name)
        self.model.set_cards(cards)
        self._update_counts()

    def update_card(self, card: PhotoCard) -> None:
        self.model.replace_card(card)
        self._update_counts()

    def card(self, photo_id: int) -> PhotoCard | None:
        return next((c for c in self.model.all_cards if c.id == photo_id), None)

    def _update_counts(self) -> None:
        cards = self.model.all_cards
        picks = sum(c.picked for c in cards)
        review = sum(c.needs_review for c in cards)
        rejects = sum(c.rejected for c in cards)
        self.counts.setText(
            f"{fmt.count(len(cards), 'photo')} · {picks:,} picks · {review:,} to review · {rejects:,} rejects"
        )
        self.export_button.setEnabled(self.session_id is not None)


def rated(card: PhotoCard, rating: int | None, flag: str | None) -> PhotoCard:
    """The card after `set_photo_rating(rating, flag)` (flag "" keeps the label)."""
    label = card.label if flag == "" else {"pick": PICK, "reject": REJECT}.get(flag or "")
    return replace(card, rating=card.rating if rating is None else rating, label=label)
