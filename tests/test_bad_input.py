"""Bad input through the real engine: each bad photo ends failed or unsupported with a
one-line reason, the session completes, originals are never touched."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from engine.errors import JunmaiError
from engine.manager import SubmitError
from engine.models import JobStatus
from tests.conftest import REPO, wait_until

pytestmark = pytest.mark.engine

GOOD = "exif-samples/jpg/Canon_40D.jpg"


def _huge_png(path: Path, width: int, height: int) -> None:
    """A valid PNG header claiming a huge image (the pixels never need to exist)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def _rows(manager, session_id):
    return {Path(p.path).name: p for p in manager.session_photos(session_id)}


def _wait_done(manager, session_id, timeout=120):
    wait_until(lambda: manager.session_info(session_id).done, timeout)
    return manager.session_info(session_id)


@pytest.fixture
def bad_folder(tmp_path, samples_dir):
    folder = tmp_path / "Hochzeit Müller"
    folder.mkdir()
    good = samples_dir / GOOD
    shutil.copy(good, folder / "Hochzeit Müller 東京 1.jpg")
    (folder / "empty.jpg").write_bytes(b"")
    data = good.read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "notes.jpg").write_text("shot list: ceremony, family, first dance\n")
    Image.new("RGB", (64, 48), "orange").save(folder / "really a png.jpg", format="PNG")
    _huge_png(folder / "panorama.png", 40_000, 20_000)
    shutil.copy(samples_dir / "exif-samples/jpg/corrupted.jpg", folder / "corrupt exif.jpg")
    shutil.copy(good, folder / "vanishing.jpg")
    return folder


def test_a_session_of_bad_files_completes_with_a_reason_for_each(
    make_settings, start_engine, bad_folder
):
    _, manager = start_engine(make_settings())
    before = _digests(bad_folder)
    manager.pause_queue()
    result = manager.submit_session_processing(bad_folder)
    assert (result.found, result.new) == (8, 8)
    (bad_folder / "vanishing.jpg").unlink()
    manager.resume_queue()
    info = _wait_done(manager, result.session_id)

    rows = _rows(manager, result.session_id)
    expect = {
        "Hochzeit Müller 東京 1.jpg": (JobStatus.COMPLETED, None),
        "really a png.jpg": (JobStatus.COMPLETED, None),
        "corrupt exif.jpg": (JobStatus.COMPLETED, None),
        "empty.jpg": (JobStatus.FAILED, "empty file (0 bytes)"),
        "truncated.jpg": (JobStatus.FAILED, "truncated JPEG"),
        "notes.jpg": (JobStatus.UNSUPPORTED, "not an image"),
        "panorama.png": (JobStatus.FAILED, "larger than the 250 MP limit"),
        "vanishing.jpg": (JobStatus.FAILED, "no longer exists"),
    }
    for name, (status, reason) in expect.items():
        assert rows[name].status == status, (name, rows[name].error)
        if reason:
            assert reason in rows[name].error and "\n" not in rows[name].error, rows[name].error
    assert (info.completed, info.failed, info.unsupported) == (3, 4, 1)
    assert rows["Hochzeit Müller 東京 1.jpg"].model == "Canon EOS 40D"
    # originals untouched: only our sidecars and exports were added beside them
    after = _digests(bad_folder)
    assert {k: v for k, v in after.items() if k in before} == {
        k: v for k, v in before.items() if k != "vanishing.jpg"
    }
    added = set(after) - set(before)
    assert added and all(a.endswith(".xmp") or a.startswith("Junmai Exports/") for a in added)


def test_a_read_only_shoot_gets_its_outputs_in_the_data_dir(
    make_settings, start_engine, tmp_path, samples_dir
):
    settings = make_settings()
    _, manager = start_engine(settings)
    folder = tmp_path / "card"
    folder.mkdir()
    shutil.copy(samples_dir / GOOD, folder / "IMG_0001.jpg")
    folder.chmod(0o555)
    try:
        result = manager.submit_session_processing(folder)
        _wait_done(manager, result.session_id)
        (photo,) = manager.session_photos(result.session_id)
        assert photo.status == JobStatus.COMPLETED
        assert sorted(os.listdir(folder)) == ["IMG_0001.jpg"]
        outputs = settings.data_dir / "outputs" / f"{result.session_id} card"
        assert Path(photo.xmp_path) == outputs / "sidecars" / "IMG_0001.jpg.xmp"
        assert Path(photo.export_path) == outputs / "exports" / "IMG_0001.jpg"
    finally:
        folder.chmod(0o755)


def test_dropping_a_folder_again_adds_only_new_or_changed_photos(
    make_settings, start_engine, tmp_path, samples_dir
):
    _, manager = start_engine(make_settings())
    folder = tmp_path / "shoot"
    folder.mkdir()
    for name in ("Canon_40D.jpg", "Nikon_D70.jpg"):
        shutil.copy(samples_dir / "exif-samples/jpg" / name, folder / name)
    first = manager.submit_session_processing(folder)
    _wait_done(manager, first.session_id)

    again = manager.submit_session_processing(folder)
    assert (again.session_id, again.found, again.new) == (first.session_id, 2, 0)

    shutil.copy(samples_dir / "exif-samples/jpg/Pentax_K10D.jpg", folder / "Pentax_K10D.jpg")
    with (folder / "Nikon_D70.jpg").open("ab") as handle:
        handle.write(b"\0")  # changed on disk: analysed again
    third = manager.submit_session_processing(folder)
    assert (third.found, third.new) == (3, 2)
    info = _wait_done(manager, first.session_id)
    assert (info.total, info.completed) == (3, 3)


def test_folders_that_cannot_become_a_session_say_why(make_settings, start_engine, tmp_path):
    _, manager = start_engine(make_settings())
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing here")
    with pytest.raises(SubmitError, match="no photos found in"):
        manager.submit_session_processing(empty)
    with pytest.raises(SubmitError, match="folder not found"):
        manager.submit_session_processing(tmp_path / "nope")
    with pytest.raises(SubmitError, match="not a folder"):
        manager.submit_session_processing(empty / "notes.txt")
    with pytest.raises(JunmaiError, match="priority 'urgent' is not valid"):
        manager.submit_session_processing(empty, priority="urgent")
    assert manager.list_sessions() == []


def _cli(args, data_dir, **env):
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        env={**os.environ, "JUNMAI_DATA_DIR": str(data_dir), **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_exit_codes_say_who_is_at_fault(tmp_path):
    data = tmp_path / "data"
    missing = _cli(["process", str(tmp_path / "nope"), "--wait"], data)
    assert missing.returncode == 2 and "folder not found" in missing.stderr
    no_engine = _cli(["status"], data)
    assert no_engine.returncode == 1 and "No Junmai engine is running" in no_engine.stderr
    queued = _cli(["process", str(tmp_path)], data)
    assert queued.returncode == 1 and "No Junmai engine is running" in queued.stderr
    down = _cli(["process", str(tmp_path), "--wait"], data, REDIS_URL="redis://127.0.0.1:1/0")
    assert down.returncode == 1 and "not reachable" in down.stderr
    assert not (data / "engine.json").exists()
    bad_setting = _cli(["status"], data, JUNMAI_WORKERS="lots")
    assert (
        bad_setting.returncode == 2 and "JUNMAI_WORKERS='lots' is not valid" in bad_setting.stderr
    )
    usage = _cli(["process"], data)
    assert usage.returncode == 2


def test_sessions_and_grid_summaries_read_in_bulk(make_settings, start_engine, bad_folder):
    _, manager = start_engine(make_settings())
    result = manager.submit_session_processing(bad_folder)
    _wait_done(manager, result.session_id)
    (listed,) = manager.list_sessions()
    assert listed == manager.session_info(result.session_id)
    assert (listed.total, listed.failed, listed.unsupported) == (8, 3, 1)
    assert sorted(name for name, _ in listed.failures) == [
        "empty.jpg",
        "notes.jpg",
        "panorama.png",
        "truncated.jpg",
    ]
    cards = {os.path.basename(c.path): c for c in manager.photo_summaries(result.session_id)}
    rows = _rows(manager, result.session_id)
    assert set(cards) == set(rows)
    for name, card in cards.items():
        assert (card.status, card.rating, card.thumbnail) == (
            rows[name].status,
            rows[name].rating,
            rows[name].thumbnail,
        )
        assert card.blurry is bool(rows[name].blurry)
