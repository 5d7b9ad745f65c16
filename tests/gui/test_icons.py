"""Icons are files looked up by name; an unknown name lists the known ones."""

from __future__ import annotations

import pytest

from engine.resources import MissingResource
from gui.icons import icon, icon_path
from gui.tray import TRAY_STATES
from gui.workers_view import STATES

pytestmark = pytest.mark.gui


def test_every_icon_the_window_uses_loads(qapp):
    names = [
        "app",
        "drop",
        "pause",
        "resume",
        "settings",
        "cancel",
        "retry",
        "retry-all",
        "purge",
        "folder",
        "results",
        "pick",
        "reject",
    ]
    names += [f"tray-{s}" for s in TRAY_STATES] + [f"state-{s}" for s in STATES]
    for name in names:
        assert not icon(name).pixmap(24, 24).isNull(), name


def test_unknown_icon_name_raises_with_the_known_names():
    with pytest.raises(MissingResource, match=r"available: .*pause\.svg"):
        icon_path("no-such-icon")
