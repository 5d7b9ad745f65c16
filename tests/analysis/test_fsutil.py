"""Atomic writes: a target is either the old file or the new one, never a partial one."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from engine import fsutil
from engine.errors import PhotoError
from engine.fsutil import OutputError, atomic_path, atomic_write_bytes


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(fsutil.TEMP_SUFFIX)]


def test_atomic_write_creates_and_replaces_without_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert leftovers(tmp_path) == []


def test_new_file_honours_umask_and_rewrite_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    old_umask = os.umask(0o022)
    try:
        atomic_write_bytes(target, b"x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    target.chmod(0o640)
    atomic_write_bytes(target, b"y")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_failure_inside_the_block_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"original")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder crashed")
    assert target.read_bytes() == b"original"
    assert leftovers(tmp_path) == []


def test_disk_full_raises_a_clear_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fsutil.os, "fsync", no_space)
    target = tmp_path / "export.jpg"
    with pytest.raises(OutputError) as caught:
        atomic_write_bytes(target, b"x" * 1000)
    assert str(caught.value) == f"disk full: could not write export.jpg in {tmp_path}"
    assert caught.value.errno == errno.ENOSPC
    assert isinstance(caught.value, OSError) and isinstance(caught.value, PhotoError)
    assert list(tmp_path.iterdir()) == []


def test_disk_full_while_writing_the_temp_file_is_reported_too(tmp_path: Path) -> None:
    target = tmp_path / "export.jpg"
    with pytest.raises(OutputError, match="disk full"), atomic_path(target):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root ignores permission bits, so the refusal is simulated at the one system call.
    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(fsutil.os, "open", refuse)
    with pytest.raises(OutputError, match="read-only or not permitted") as caught:
        atomic_write_bytes(tmp_path / "a.jpg", b"x")
    assert caught.value.errno == errno.EROFS


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root ignores permission bits")
def test_read_only_folder_for_real(tmp_path: Path) -> None:
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="read-only"):
            atomic_write_bytes(tmp_path / "a.jpg", b"x")
    finally:
        tmp_path.chmod(0o755)
