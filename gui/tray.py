"""The system tray: an icon that shows running / paused / idle / error, a tooltip with queue
depth and session progress, the menu Pause / Resume / Show / Quit, and notifications.

The actions exist even where the platform has no tray (the window uses them too); only the
icon is missing there, and the app works without it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from gui.icons import icon

TRAY_STATES = ("running", "paused", "idle", "error")


class Tray(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu = QMenu()
        self.pause_action = QAction(icon("pause"), "Pause queue", self)
        self.resume_action = QAction(icon("resume"), "Resume queue", self)
        self.show_action = QAction("Show window", self)
        self.quit_action = QAction("Quit Junmai", self)
        self.menu.addAction(self.pause_action)
        self.menu.addAction(self.resume_action)
        self.menu.addSeparator()
        self.menu.addAction(self.show_action)
        self.menu.addAction(self.quit_action)
        self.state = "idle"
        self.icon: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QSystemTrayIcon(icon("tray-idle"), self)
            self.icon.setContextMenu(self.menu)
            self.icon.setToolTip("Junmai AutoDev")
            self.icon.activated.connect(self._activated)
            self.icon.show()

    @property
    def available(self) -> bool:
        return self.icon is not None

    def set_state(self, state: str, tooltip: str, paused: bool | None) -> None:
        """Show `state` (one of TRAY_STATES); `paused` None = unknown (both actions off)."""
        self.state = state
        self.pause_action.setEnabled(paused is False)
        self.resume_action.setEnabled(paused is True)
        if self.icon is not None:
            self.icon.setIcon(icon(f"tray-{state}"))
            self.icon.setToolTip(tooltip)

    def notify(self, title: str, message: str, error: bool = False) -> bool:
        """A desktop notification; False when there is no tray to show it."""
        if self.icon is None or not QSystemTrayIcon.supportsMessages():
            return False
        kind = (
            QSystemTrayIcon.MessageIcon.Warning
            if error
            else QSystemTrayIcon.MessageIcon.Information
        )
        self.icon.showMessage(title, message, kind, 8000)
        return True

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_action.trigger()
