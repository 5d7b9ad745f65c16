"""Throughput, ETA and the chart's series come from successive snapshots."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.snapshots import SessionInfo
from gui.history import History, current_session

pytestmark = pytest.mark.gui


def session(id_: int, settled: int, total: int = 100, open_jobs: int = 1) -> SessionInfo:
    return SessionInfo(
        id=id_,
        name=f"s{id_}",
        folder=f"/s{id_}",
        total=total,
        completed=settled,
        failed=0,
        unsupported=0,
        cancelled=0,
        groups=0,
        open_jobs=open_jobs,
        created_at=datetime.now(UTC),
    )


def test_throughput_is_photos_settled_per_minute_over_the_last_minute():
    history = History()
    for second in range(0, 31):
        history.add(1000.0 + second, {"medium_priority": 100 - second}, [session(1, second * 2)])
    assert history.photos_per_min() == pytest.approx(120.0)
    assert history.eta_s(session(1, 60)) == pytest.approx(20.0)


def test_no_rate_until_a_few_seconds_are_known():
    history = History()
    history.add(1000.0, {}, [session(1, 0)])
    history.add(1001.0, {}, [session(1, 5)])
    assert history.photos_per_min() is None
    assert history.eta_s(session(1, 5)) is None


def test_chart_keeps_ten_minutes_and_counts_back_from_now():
    history = History()
    for second in range(0, 900, 30):
        history.add(float(second), {"high_priority": second}, [])
    xs, ys = history.depth_series("high_priority")
    assert xs[-1] == 0 and xs[0] >= -10
    assert ys[-1] == 870


def test_current_session_is_the_newest_still_running():
    done = session(3, 100, open_jobs=0)
    assert current_session([session(1, 5), session(2, 10), done]).id == 2
    assert current_session([done]).id == 3
    assert current_session([]) is None
