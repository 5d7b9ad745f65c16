"""Dropped URLs become the right paths, and what cannot be processed is said plainly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QUrl

from gui.drop import dropped_items, inspect_drop, local_path

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[2]


def test_file_urls_with_spaces_and_non_ascii_names_become_local_paths(tmp_path):
    folder = tmp_path / "Mariage été 2026"
    folder.mkdir()
    url = QUrl.fromLocalFile(str(folder))
    assert "%20" in url.toEncoded().data().decode()  # the way a file manager sends it
    assert local_path(QUrl.fromEncoded(url.toEncoded())) == str(folder)


def test_a_unc_url_keeps_its_server():
    assert local_path(QUrl("file://server/share/Wedding 2026")) == "//server/share/Wedding 2026"


def test_web_links_are_not_paths():
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/photo.jpg")])
    assert dropped_items(mime) == ["https://example.com/photo.jpg"]
    plan = inspect_drop(dropped_items(mime))
    assert plan.empty and "not a file or folder on this computer" in plan.problems[0]


def test_an_unreachable_share_says_folder_not_reachable():
    plan = inspect_drop(["//server/share/Wedding 2026"])
    assert plan.empty
    assert plan.problems == (
        "folder not reachable: //server/share/Wedding 2026 (is the network share connected?)",
    )


def test_photos_are_counted_with_and_without_sub_folders(tmp_path, samples_dir):
    jpeg = next(samples_dir.rglob("FurnaceCreekInn.jpg"))
    (tmp_path / "card" / "DCIM").mkdir(parents=True)
    shutil.copy(jpeg, tmp_path / "card" / "a.jpg")
    shutil.copy(jpeg, tmp_path / "card" / "DCIM" / "b.jpg")
    (tmp_path / "card" / "notes.txt").write_text("not a photo")
    plan = inspect_drop([str(tmp_path / "card")])
    assert (plan.photo_count(False), plan.photo_count(True)) == (1, 2)
    assert plan.has_subfolder_photos and not plan.problems


def test_empty_folder_non_folder_and_vanished_folder_each_get_a_reason(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    plan = inspect_drop(
        [str(tmp_path / "empty"), str(tmp_path / "notes.txt"), str(tmp_path / "gone")]
    )
    assert plan.empty
    assert plan.problems == (
        f"no photos in {tmp_path / 'empty'}",
        "not a photo or a folder: notes.txt",
        f"folder not found (moved, renamed or the card ejected?): {tmp_path / 'gone'}",
    )


def test_an_unreadable_folder_says_permission_denied(tmp_path):
    """chmod 000 does not stop root, so as root the check runs in a child process without the
    capabilities that let root read anything (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"\xff\xd8\xff")
    folder.chmod(0)
    script = "import sys; from gui.drop import inspect_drop; p = inspect_drop([sys.argv[1]]); print(p.empty, *p.problems, sep='\\n')"
    command = [sys.executable, "-c", script, str(folder)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and setpriv is missing: cannot make a folder unreadable")
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *command]
    try:
        out = subprocess.run(
            command, capture_output=True, text=True, cwd=REPO, check=True, timeout=60
        ).stdout
    finally:
        folder.chmod(0o755)
    assert out.splitlines() == ["True", f"folder not readable (permission denied): {folder}"]
