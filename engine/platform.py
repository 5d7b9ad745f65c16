"""Operating-system specifics in one place: how children are started (no console window,
below-normal priority, ended with their owner), where Redis binaries are looked for.

Each function takes the platform explicitly (default: this one) so the Windows branches are
unit-tested on Linux.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

WINDOWS = "win32"

# Windows process creation flags (winbase.h); the subprocess module defines them only on Windows.
CREATE_NO_WINDOW = 0x08000000
BELOW_NORMAL_PRIORITY_CLASS = 0x00004000
CREATE_NEW_PROCESS_GROUP = 0x00000200
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
POSIX_BELOW_NORMAL_NICE = 10
PR_SET_PDEATHSIG = 1


def redis_binary_name(platform: str = sys.platform) -> str:
    return "redis-server.exe" if platform == WINDOWS else "redis-server"


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Linux: the child gets SIGKILL when the thread that started it dies (owner crash)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass  # not Linux: the owner-pid watchdog in each child covers it


def child_popen_kwargs(*, below_normal: bool, platform: str = sys.platform) -> dict[str, Any]:
    """Keyword arguments for subprocess.Popen that start a supervised child the right way.

    Windows: no console window, optionally below-normal priority, own process group (so a
    Ctrl+C in the owner's console is the owner's to handle). POSIX: killed when the owner
    dies, optionally niced.
    """
    if platform == WINDOWS:
        flags = CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP
        if below_normal:
            flags |= BELOW_NORMAL_PRIORITY_CLASS
        return {"creationflags": flags}
    preexec: Callable[[], None]
    if below_normal:

        def preexec() -> None:  # pragma: no cover - runs in the forked child
            _die_with_parent()
            os.nice(POSIX_BELOW_NORMAL_NICE)

    else:
        preexec = _die_with_parent
    return {"preexec_fn": preexec, "start_new_session": True}


class KillOnCloseJob:
    """Windows: a Job Object that ends every process assigned to it when the owner exits,
    however it exits (the kernel closes the handle). A no-op elsewhere."""

    def __init__(self, platform: str = sys.platform) -> None:
        self._handle: int | None = None
        if platform != WINDOWS:
            return
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        handle = kernel32.CreateJobObjectW(None, None)
        if not handle:
            return
        info = _extended_limit_information()
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        ok = kernel32.SetInformationJobObject(
            handle,
            JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
            ctypes.byref(info),
            ctypes.sizeof(info),
        )
        self._handle = handle if ok else None
        self._kernel32 = kernel32

    def assign(self, process: subprocess.Popen[Any]) -> None:
        if self._handle is None:
            return
        self._kernel32.AssignProcessToJobObject(self._handle, int(process._handle))  # type: ignore[attr-defined]


def _extended_limit_information() -> Any:
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION (winnt.h), built only when needed."""
    dword, large_integer, size_t = ctypes.c_uint32, ctypes.c_int64, ctypes.c_size_t

    class IoCounters(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint64) for name in ("r", "w", "o", "rb", "wb", "ob")]

    class BasicLimits(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", large_integer),
            ("PerJobUserTimeLimit", large_integer),
            ("LimitFlags", dword),
            ("MinimumWorkingSetSize", size_t),
            ("MaximumWorkingSetSize", size_t),
            ("ActiveProcessLimit", dword),
            ("Affinity", size_t),
            ("PriorityClass", dword),
            ("SchedulingClass", dword),
        ]

    class ExtendedLimits(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", BasicLimits),
            ("IoInfo", IoCounters),
            ("ProcessMemoryLimit", size_t),
            ("JobMemoryLimit", size_t),
            ("PeakProcessMemoryUsed", size_t),
            ("PeakJobMemoryUsed", size_t),
        ]

    return ExtendedLimits()


def self_command(role: str, *args: str, frozen: bool | None = None) -> list[str]:
    """The command line that runs this application in another role (worker, beat...).

    In a frozen app sys.executable *is* the app, so the role is its first argument; from
    source it is the interpreter running our own CLI module (never `-m celery`).
    """
    frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    if frozen:
        return [sys.executable, role, *args]
    return [sys.executable, "-m", "engine.cli", role, *args]


# NTSTATUS codes a crashed Windows process exits with (ntstatus.h).
_WINDOWS_EXIT_NAMES = {
    0xC0000005: "STATUS_ACCESS_VIOLATION",
    0xC00000FD: "STATUS_STACK_OVERFLOW",
    0xC0000017: "STATUS_NO_MEMORY",
    0xC000013A: "STATUS_CONTROL_C_EXIT",
    0xC0000409: "STATUS_STACK_BUFFER_OVERRUN",
    0xC0000374: "STATUS_HEAP_CORRUPTION",
    1: "terminated",
}


def describe_exit(code: int | None, platform: str = sys.platform) -> str:
    """A crashed child's exit status in words: 'killed by SIGKILL', 'STATUS_ACCESS_VIOLATION'."""
    if code is None:
        return "still running"
    if code == 0:
        return "exited normally"
    if platform == WINDOWS:
        name = _WINDOWS_EXIT_NAMES.get(code & 0xFFFFFFFF)
        return f"exit code {name}" if name else f"exit code {code & 0xFFFFFFFF:#x}"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# SetThreadExecutionState flags (winbase.h).
ES_CONTINUOUS = 0x80000000
ES_SYSTEM_REQUIRED = 0x00000001


def _set_thread_execution_state(flags: int) -> int:  # pragma: no cover - Windows only
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    kernel32.SetThreadExecutionState.argtypes = [ctypes.c_uint32]
    kernel32.SetThreadExecutionState.restype = ctypes.c_uint32
    return int(kernel32.SetThreadExecutionState(flags))


def keep_awake(
    active: bool,
    platform: str = sys.platform,
    set_state: Callable[[int], int] | None = None,
) -> bool:
    """Windows: keep the machine from sleeping while jobs run (`active=True`), allow sleep
    again when idle (`active=False`). The display may still turn off. Elsewhere a no-op.

    The request belongs to the calling thread and lasts until that thread calls again or
    ends: call it from one long-lived thread (the GUI's), both on and off. Returns True when
    the request was made and accepted.
    """
    if platform != WINDOWS:
        return False
    flags = ES_CONTINUOUS | (ES_SYSTEM_REQUIRED if active else 0)
    return (set_state or _set_thread_execution_state)(flags) != 0
