"""The engine's one way to write a file: atomically (temp file in the same folder + os.replace).

A reader sees the old file or the new one, never half of either; a failure (disk full,
read-only folder, a crash) leaves the target as it was and no temp file behind.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import PhotoError

TEMP_SUFFIX = ".junmai-tmp"
"""Temp files are hidden (leading dot) and end with this, so a cleanup can find leftovers."""

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NOT_PERMITTED = {errno.EACCES, errno.EPERM, errno.EROFS}


class OutputError(PhotoError, OSError):
    """An output file cannot be written (disk full, read-only folder); `errno` is the cause's.

    It is an OSError so a caller can fall back to another folder, and a PhotoError so the
    photo ends with this one line as its error.
    """


def as_output_error(err: OSError, path: Path) -> OutputError:
    """The OutputError, with one human line, for `err` raised while writing `path`."""
    if err.errno in _DISK_FULL:
        message = f"disk full: could not write {path.name} in {path.parent}"
    elif err.errno in _NOT_PERMITTED:
        message = f"cannot write to {path.parent}: the folder is read-only or not permitted"
    else:
        message = f"could not write {path}: {err.strerror or err}"
    out = OutputError(message)
    out.errno = err.errno
    return out


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a folder this way.
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temp path beside `path`; on success it is fsynced and replaces `path`.

    `durable=False` skips the fsyncs (still atomic: a reader sees the old file or the new
    one, never half of one) for files we can make again, such as thumbnails.

    The caller writes the temp path (e.g. `image.save(tmp, format="JPEG")`). If the block
    raises, the temp file is removed and `path` is untouched. Disk-full and permission
    failures are raised as `OutputError` with one human line.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    try:
        # O_EXCL + 0o666: honours the umask, unlike mkstemp's 0o600.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as err:
        raise as_output_error(err, path) from err
    try:
        yield tmp
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if err.errno in _DISK_FULL and not isinstance(err, OutputError):
            raise as_output_error(err, path) from err
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        if path.exists():
            shutil.copymode(path, tmp)
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise as_output_error(err, path) from err
    if durable:
        _fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically; returns `path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
