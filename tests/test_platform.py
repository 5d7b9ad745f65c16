"""Platform branches, each selected explicitly so the Windows paths run here too."""

from __future__ import annotations

import signal
import sys

from engine import platform as plat


def test_windows_children_get_no_console_and_below_normal_priority():
    kwargs = plat.child_popen_kwargs(below_normal=True, platform="win32")
    flags = kwargs["creationflags"]
    assert flags & plat.CREATE_NO_WINDOW
    assert flags & plat.BELOW_NORMAL_PRIORITY_CLASS
    assert flags & plat.CREATE_NEW_PROCESS_GROUP
    assert "preexec_fn" not in kwargs


def test_windows_redis_keeps_normal_priority():
    flags = plat.child_popen_kwargs(below_normal=False, platform="win32")["creationflags"]
    assert not flags & plat.BELOW_NORMAL_PRIORITY_CLASS


def test_posix_children_die_with_their_owner_in_their_own_session():
    kwargs = plat.child_popen_kwargs(below_normal=True, platform="linux")
    assert callable(kwargs["preexec_fn"]) and kwargs["start_new_session"]
    assert "creationflags" not in kwargs


def test_redis_binary_name_per_platform():
    assert plat.redis_binary_name("win32") == "redis-server.exe"
    assert plat.redis_binary_name("linux") == "redis-server"


def test_frozen_app_starts_roles_through_its_own_executable():
    assert plat.self_command("worker", "w1@pc", frozen=True) == [sys.executable, "worker", "w1@pc"]
    assert plat.self_command("worker", "w1@pc", frozen=False) == [
        sys.executable,
        "-m",
        "engine.cli",
        "worker",
        "w1@pc",
    ]


def test_exit_codes_are_described_in_words():
    assert plat.describe_exit(-signal.SIGKILL, "linux") == "killed by SIGKILL"
    assert plat.describe_exit(0xC0000005, "win32") == "exit code STATUS_ACCESS_VIOLATION"
    assert plat.describe_exit(-1073741819, "win32") == "exit code STATUS_ACCESS_VIOLATION"
    assert plat.describe_exit(3, "linux") == "exit code 3"


def test_job_object_is_a_no_op_off_windows():
    job = plat.KillOnCloseJob(platform="linux")
    job.assign(None)  # type: ignore[arg-type]  # nothing to assign to: must not touch it
