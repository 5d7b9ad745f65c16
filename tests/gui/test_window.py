"""The window on a real engine: private Redis, real worker processes, a real database."""

from __future__ import annotations

import os
import shutil
import signal
import warnings
from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from engine import jobs
from tests import jobs_for_tests as tj
from tests.gui.conftest import wait_for_snapshot

pytestmark = [pytest.mark.gui, pytest.mark.engine]

SAMPLE_JPEGS = ("FurnaceCreekInn.jpg", "FurnaceCreekInn2.jpg", "FurnaceCreekInn3.jpg")


def drop_urls(window, urls: list[QUrl]) -> None:
    """Drag and drop onto the window exactly as a file manager does: a QMimeData of URLs."""
    mime = QMimeData()
    mime.setUrls(urls)
    centre = window.rect().center()
    with warnings.catch_warnings():  # 6.12 deprecates the QPoint form, the only one 6.11 has
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(
            centre,
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(QPoint(centre)),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, drop)


def make_shoot(samples_dir: Path, folder: Path, count: int) -> set[Path]:
    """A folder with `count` small JPEGs, a text file and a sub-folder photo (not included)."""
    folder.mkdir(parents=True)
    sources = [next(samples_dir.rglob(name)) for name in SAMPLE_JPEGS]
    photos = set()
    for number in range(count):
        target = folder / f"IMG_{number:04d}.jpg"
        shutil.copy(sources[number % len(sources)], target)
        photos.add(target.resolve())
    (folder / "notes.txt").write_text("client wants the church shots first")
    (folder / "extra").mkdir()
    shutil.copy(sources[0], folder / "extra" / "IMG_9999.jpg")
    return photos


def ran_lines(settings) -> list[str]:
    log = settings.data_dir / "ran.log"
    return log.read_text().splitlines() if log.exists() else []


def open_jobs(snap) -> int:
    return sum(snap.queue.jobs_by_status.get(s, 0) for s in ("pending", "queued", "processing"))


def test_dropping_folders_named_with_spaces_and_accents_submits_exactly_their_photos(
    qtbot, make_settings, open_window, samples_dir, tmp_path
):
    window = open_window(make_settings())
    manager = window.connection.manager
    expected = {
        (tmp_path / "Wedding 2026").resolve(): make_shoot(
            samples_dir, tmp_path / "Wedding 2026", 3
        ),
        (tmp_path / "Été à Kyōto").resolve(): make_shoot(samples_dir, tmp_path / "Été à Kyōto", 2),
    }
    drop_urls(window, [QUrl.fromLocalFile(str(folder)) for folder in expected])

    qtbot.waitUntil(
        lambda: window.drop_dialog is not None and window.drop_dialog.isVisible(), timeout=10_000
    )
    assert "5 photos" in window.drop_dialog.summary.text()
    with qtbot.waitSignal(window.submitted, timeout=30_000) as submitted:
        window.drop_dialog.process_button.click()
    results = submitted.args[0]
    assert {Path(r.folder): r.found for r in results} == {f: len(p) for f, p in expected.items()}
    for result in results:
        paths = {Path(p.path) for p in manager.session_photos(result.session_id)}
        assert paths == expected[Path(result.folder)]

    wait_for_snapshot(
        qtbot, window, lambda s: len(s.sessions) == 2 and all(x.done for x in s.sessions), 120
    )
    snap = wait_for_snapshot(qtbot, window, lambda s: open_jobs(s) == 0)
    stats = manager.get_queue_stats()
    for queue, label in window.dashboard.queue.depth_labels.items():
        assert label.text() == f"{stats.depth[queue]:,}"
    truth = {s.id: s for s in manager.list_sessions()}
    for number, row in enumerate(window.sessions_view.model.rows):
        assert row.settled == truth[row.id].settled == truth[row.id].total
        assert window.sessions_view.model.index(number, 2).data() == f"{row.total} / {row.total}"
    assert "done" in window.dashboard.queue.progress.text()
    assert snap.queue.jobs_by_status == stats.jobs_by_status


def test_bad_drops_say_why_and_submit_nothing(qtbot, make_settings, open_window, tmp_path):
    window = open_window(make_settings())
    manager = window.connection.manager
    (tmp_path / "Empty card").mkdir()
    (tmp_path / "notes.txt").write_text("not a photo")
    ejected = tmp_path / "Card ejected"
    cases = [
        (QUrl.fromLocalFile(str(tmp_path / "Empty card")), "no photos in"),
        (QUrl.fromLocalFile(str(tmp_path / "notes.txt")), "not a photo or a folder: notes.txt"),
        (
            QUrl("file://server/share/Wedding 2026"),
            "folder not reachable: //server/share/Wedding 2026",
        ),
        (QUrl.fromLocalFile(str(ejected)), "folder not found"),  # the card was pulled out
    ]
    for url, message in cases:
        window.notice.hide()
        drop_urls(window, [url])
        qtbot.waitUntil(lambda m=message: m in window.notice.text(), timeout=10_000)
        assert "Nothing to process" in window.notice.text()
        assert window.drop_dialog is None
    assert manager.list_sessions() == []
    assert manager.get_queue_stats().jobs_by_status == {}


@pytest.mark.parametrize("control", ["window button", "tray menu"])
def test_pause_lets_running_jobs_finish_and_starts_nothing_until_resumed(
    qtbot, make_settings, open_window, control
):
    settings = make_settings()
    window = open_window(settings)
    manager = window.connection.manager
    ids = jobs.enqueue(manager.db, manager.app, [jobs.NewJob(tj.SLEEPY, 5) for _ in range(10)])
    wait_for_snapshot(qtbot, window, lambda s: s.queue.jobs_by_status.get("processing", 0) >= 1)

    if control == "tray menu":
        qtbot.waitUntil(window.tray.pause_action.isEnabled)
        window.tray.pause_action.trigger()
    else:
        window.pause_button.click()
    running_at_pause = {j.id for j in manager.list_jobs(status="processing")}
    wait_for_snapshot(
        qtbot,
        window,
        lambda s: s.queue.paused and s.queue.jobs_by_status.get("processing", 0) == 0,
        30,
    )
    assert window.pause_button.text() == "Resume queue"
    assert window.tray.state == "paused"
    started = ran_lines(settings)
    qtbot.wait(3 * int(tj.SLEEP_S * 1000))
    assert ran_lines(settings) == started, "a job started while the queue was paused"
    statuses = {j.id: j.status for j in manager.list_jobs()}
    assert all(statuses[i] == "completed" for i in running_at_pause)
    assert sum(statuses[i] == "queued" for i in ids) >= 1

    if control == "tray menu":
        qtbot.waitUntil(window.tray.resume_action.isEnabled)
        window.tray.resume_action.trigger()
    else:
        window.pause_button.click()
    wait_for_snapshot(qtbot, window, lambda s: not s.queue.paused)
    qtbot.waitUntil(lambda: len(ran_lines(settings)) > len(started), timeout=30_000)


def test_cancel_and_retry_from_the_jobs_table_change_the_database(
    qtbot, make_settings, open_window
):
    settings = make_settings(JUNMAI_MAX_RETRIES="1", JUNMAI_WORKERS="1")
    window = open_window(settings)
    manager = window.connection.manager
    view = window.jobs_view
    (flaky,) = jobs.enqueue(manager.db, manager.app, [jobs.NewJob(tj.FLAKY, 9)])
    qtbot.waitUntil(lambda: manager.get_job_status(flaky).status == "failed", timeout=60_000)
    sleepy = jobs.enqueue(manager.db, manager.app, [jobs.NewJob(tj.SLEEPY, 5) for _ in range(4)])
    wait_for_snapshot(qtbot, window, lambda s: s.queue.jobs_by_status.get("processing", 0) == 1)

    window.tabs.setCurrentWidget(view)
    view.set_filter(None)
    wait_for_snapshot(
        qtbot,
        window,
        lambda s: (
            s.jobs is not None
            and s.jobs_filter is None
            and {*sleepy, flaky} <= {j.id for j in s.jobs}
        ),
    )
    view.select_jobs([flaky])
    assert view.retry_button.isEnabled() and not view.cancel_button.isEnabled()
    view.select_jobs(sleepy)  # one running, three queued
    assert view.cancel_button.isEnabled() and not view.retry_button.isEnabled()
    view.cancel_button.click()
    qtbot.waitUntil(
        lambda: {manager.get_job_status(i).status for i in sleepy} == {"cancelled"}, timeout=30_000
    )

    view.set_filter("failed")
    wait_for_snapshot(
        qtbot,
        window,
        lambda s: s.jobs_filter == "failed" and [j.id for j in s.jobs or ()] == [flaky],
    )
    qtbot.waitUntil(lambda: view.model.row_of(flaky) is not None)
    view.select_jobs([flaky])
    assert "planned failure on attempt 2" in view.details.toPlainText()
    assert "Traceback" in view.details.toPlainText()
    runs_before = [line for line in ran_lines(settings) if line.split()[0] == str(flaky)]
    assert [line.split()[1] for line in runs_before] == ["1", "2"]
    view.retry_button.click()
    qtbot.waitUntil(lambda: manager.get_job_status(flaky).status != "failed", timeout=10_000)
    # a fresh attempt budget: it runs from attempt 1 again (and, being flaky, fails twice more)
    qtbot.waitUntil(
        lambda: (
            [line.split()[1] for line in ran_lines(settings) if line.split()[0] == str(flaky)]
            == ["1", "2", "1", "2"]
        ),
        timeout=30_000,
    )


def test_a_killed_worker_shows_restarting_then_idle(qtbot, make_settings, open_window):
    window = open_window(make_settings())
    snap = wait_for_snapshot(
        qtbot, window, lambda s: len(s.workers) == 2 and all(w.state == "idle" for w in s.workers)
    )
    victim = snap.workers[0]
    shown: list[str] = []
    window.snapshot_shown.connect(lambda _: shown.append(window.workers_view.model.rows[0].state))
    os.kill(victim.pid, signal.SIGKILL)

    qtbot.waitUntil(
        lambda: window.workers_view.state_of(victim.name) == "restarting", timeout=15_000
    )
    row = window.workers_view.model.rows[window.workers_view.model.row_of(victim.name)]
    assert "SIGKILL" in (row.note or "")
    assert "restarting (killed by SIGKILL)" in window.workers_view.model.index(0, 3).data()
    qtbot.waitUntil(
        lambda: (
            window.workers_view.state_of(victim.name) == "idle"
            and window.workers_view.model.rows[0].pid not in (None, victim.pid)
        ),
        timeout=30_000,
    )
    assert "busy" not in shown and "dead" not in shown[-3:]
    assert shown.index("restarting") < len(shown) - 1 - shown[::-1].index("idle")


def test_a_second_window_is_a_client_of_the_running_engine(qtbot, make_settings, open_window):
    settings = make_settings()
    owner = open_window(settings)
    client = open_window(settings)
    assert owner.connection.owner and not client.connection.owner
    assert client.role_label.text() == f"client of the engine run by process {os.getpid()}"
    assert (
        client.redis_label.text()
        == owner.redis_label.text()
        == f"Redis: {owner.connection.endpoint.display}"
    )
    assert "private (127.0.0.1:" in owner.redis_label.text()
    with qtbot.waitSignal(client.closed, timeout=30_000):
        client.shutdown()
    assert owner.connection.engine.supervisor is not None
    assert all(psutil.pid_exists(w.pid) for w in owner.connection.manager.get_worker_stats())


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_quit_from_the_tray_stops_a_busy_engine_its_workers_and_its_redis(
    qtbot, make_settings, open_window
):
    window = open_window(make_settings())
    manager = window.connection.manager
    jobs.enqueue(manager.db, manager.app, [jobs.NewJob(tj.SLEEPY, 5) for _ in range(6)])
    snap = wait_for_snapshot(
        qtbot, window, lambda s: s.busy and len(s.workers) == 2 and all(w.pid for w in s.workers)
    )
    pids = [w.pid for w in snap.workers] + [window.connection.endpoint.pid]
    assert all(pids) and not any(gone(p) for p in pids)

    with qtbot.waitSignal(window.closed, timeout=60_000):
        window.tray.quit_action.trigger()  # no question: the tray's Quit always quits
    assert window.quit_box is None
    assert not window.isVisible()
    qtbot.waitUntil(lambda: all(gone(p) for p in pids), timeout=20_000)
    assert window.connection is None
    assert not (make_settings().data_dir / "engine.json").exists()


def test_quitting_a_busy_engine_from_the_window_asks_first(qtbot, make_settings, open_window):
    window = open_window(make_settings())
    manager = window.connection.manager
    jobs.enqueue(manager.db, manager.app, [jobs.NewJob(tj.SLEEPY, 5) for _ in range(6)])
    wait_for_snapshot(qtbot, window, lambda s: s.busy)
    window.close()  # no tray offscreen: closing the window is a quit request
    qtbot.waitUntil(lambda: window.quit_box is not None and window.quit_box.isVisible())
    assert "still to do" in window.quit_box.text()
    stop = next(b for b in window.quit_box.buttons() if b.text() == "Stop now")
    with qtbot.waitSignal(window.closed, timeout=60_000):
        stop.click()
    assert window.connection is None
