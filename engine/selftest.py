"""`--self-test`: proves an installed (or frozen) app works end to end on this machine.

It makes a few photos of its own (EXIF with DateTimeOriginal, one rotated by an orientation
tag, a near-duplicate pair taken one second apart, one damaged file), starts the real engine
on a temporary data dir — the app's own Redis and ONE worker, started through this very
executable's `worker` role — processes them, checks what a photographer would check, stops
everything and returns 0; or prints why not and returns 1.

Prints the time from process start to the first processed photo, and in total.
"""

from __future__ import annotations

import io
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
import psutil
from PIL import Image

from engine.broker import find_redis_server
from engine.config import Settings, load_settings
from engine.errors import JunmaiError
from engine.models import JobStatus, Photo
from engine.runtime import Engine

TIMEOUT_S = 180.0
POLL_S = 0.05
# Lines in the children's logs that mean the build or the install is broken.
BAD_LOG_LINE = re.compile(
    r"Traceback \(most recent call last\)|ModuleNotFoundError|ImportError|"
    r"No module named|Could not load the Qt platform plugin"
)

ROTATED, PAIR_A, PAIR_B, OTHER, BROKEN = (
    "rotated.jpg",
    "pair-a.jpg",
    "pair-b.jpg",
    "other.jpg",
    "broken.jpg",
)
STORED_SIZE = (640, 480)  # as the pixels are stored; the rotated one shows as 480 x 640


class SelfTestFailed(Exception):
    """One check failed; the message says which and what was found."""


@dataclass
class Report:
    """What the self-test prints as it goes."""

    out: TextIO
    process_started: float = field(default_factory=lambda: psutil.Process().create_time())

    def say(self, text: str) -> None:
        print(f"self-test: {text}", file=self.out, flush=True)

    def since_process_start(self) -> float:
        return time.time() - self.process_started


# --- the photos ------------------------------------------------------------------------------


def _texture(seed: int, size: tuple[int, int]) -> Image.Image:
    """A photo-like image: smooth random shapes, so focus and perceptual hash mean something."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    base = Image.fromarray(coarse, "RGB").resize(size, Image.Resampling.BICUBIC)
    noise = rng.integers(-6, 7, size=(size[1], size[0], 3))
    pixels = np.clip(np.asarray(base, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _exif(taken: str, orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Junmai"  # Make
    exif[0x0110] = "Self-test camera"  # Model
    exif[0x0112] = orientation  # Orientation
    sub = exif.get_ifd(0x8769)  # the Exif IFD
    sub[0x9003] = taken  # DateTimeOriginal
    sub[0x8827] = 200  # ISO
    return exif


def make_photos(folder: Path) -> dict[str, str]:
    """Write the test photos into folder; returns file name -> what it is for."""
    folder.mkdir(parents=True, exist_ok=True)
    _texture(1, STORED_SIZE).save(
        folder / ROTATED, quality=90, exif=_exif("2024:05:01 09:00:00", orientation=6)
    )
    pair = _texture(2, STORED_SIZE)
    pair.save(folder / PAIR_A, quality=90, exif=_exif("2024:05:01 10:00:00"))
    brighter = Image.eval(pair, lambda v: min(255, v + 4))
    brighter.save(folder / PAIR_B, quality=85, exif=_exif("2024:05:01 10:00:01"))
    _texture(3, STORED_SIZE).save(folder / OTHER, quality=90, exif=_exif("2024:05:01 11:00:00"))
    whole = io.BytesIO()
    _texture(4, STORED_SIZE).save(whole, "JPEG", quality=90)
    (folder / BROKEN).write_bytes(whole.getvalue()[:700])  # cut off in the middle
    return {
        ROTATED: "orientation 6",
        PAIR_A: "near-duplicate pair, first",
        PAIR_B: "near-duplicate pair, 1 s later",
        OTHER: "a different scene",
        BROKEN: "damaged JPEG (must fail)",
    }


# --- checks -----------------------------------------------------------------------------------


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SelfTestFailed(message)


def check_results(photos: dict[str, Photo]) -> list[str]:
    """The photographer's checks on the processed session; returns what was verified."""
    missing = {ROTATED, PAIR_A, PAIR_B, OTHER, BROKEN} - set(photos)
    _check(not missing, f"photos missing from the session: {sorted(missing)}")
    for name in (ROTATED, PAIR_A, PAIR_B, OTHER):
        p = photos[name]
        _check(
            p.status == JobStatus.COMPLETED.value,
            f"{name} ended {p.status!r}, expected completed ({p.error or 'no error given'})",
        )
    rotated = photos[ROTATED]
    _check(
        (rotated.width, rotated.height) == STORED_SIZE[::-1],
        f"{ROTATED}: size {rotated.width}x{rotated.height}, expected the orientation-corrected "
        f"{STORED_SIZE[1]}x{STORED_SIZE[0]}",
    )
    _check(rotated.orientation == 6, f"{ROTATED}: orientation {rotated.orientation}, expected 6")
    _check(
        bool(rotated.datetime_original) and "09:00:00" in str(rotated.datetime_original),
        f"{ROTATED}: DateTimeOriginal {rotated.datetime_original!r}, expected 2024:05:01 09:00:00",
    )
    a, b = photos[PAIR_A], photos[PAIR_B]
    _check(
        a.group_id is not None and a.group_id == b.group_id,
        f"the near-duplicate pair was not grouped (groups {a.group_id} and {b.group_id})",
    )
    _check(
        [bool(a.is_best), bool(b.is_best)].count(True) == 1,
        f"the pair needs exactly one best pick (got {a.is_best}, {b.is_best})",
    )
    for name in (ROTATED, OTHER):
        _check(
            photos[name].group_id is None or photos[name].group_id != a.group_id,
            f"{name} was wrongly grouped with the pair",
        )
    broken = photos[BROKEN]
    _check(
        broken.status == JobStatus.FAILED.value and bool(broken.error),
        f"{BROKEN} ended {broken.status!r} with error {broken.error!r}; expected failed with a "
        "message",
    )
    return [
        f"4 completed, 1 failed; {ROTATED} is {rotated.width}x{rotated.height} (orientation 6), "
        f"taken {rotated.datetime_original}",
        f"pair grouped (group {a.group_id}, best: {PAIR_A if a.is_best else PAIR_B})",
        f"{BROKEN} failed: {broken.error}",
    ]


def _worker_commands(engine: Engine) -> list[list[str]]:
    supervisor = engine.supervisor
    if supervisor is None:
        return []
    commands = []
    for child in supervisor.children:
        if child.role == "worker" and child.pid is not None:
            try:
                commands.append(psutil.Process(child.pid).cmdline())
            except psutil.Error:
                continue
    return commands


def check_worker_command(commands: list[list[str]], frozen: bool) -> str:
    """The worker runs through this app's own role: `<this executable> worker NAME`."""
    _check(bool(commands), "no worker process was running")
    command = commands[0]
    if frozen:
        ok = (
            len(command) > 1
            and Path(command[0]).resolve() == Path(sys.executable).resolve()
            and command[1] == "worker"
        )
    else:
        ok = command[1:4] == ["-m", "engine.cli", "worker"]
    _check(ok, f"the worker was not started through this app's worker role: {command}")
    return " ".join([Path(command[0]).name, *command[1 : command.index("worker") + 2]])


def check_redis_binary(binary: Path | None, frozen: bool) -> str:
    _check(
        binary is not None,
        "no Redis server to start: the build has no resources/bin/redis-server "
        "(Windows: run packaging/fetch_windows_redis.py before building)",
    )
    assert binary is not None
    if frozen:
        bundle = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)).resolve()
        _check(
            bundle in binary.resolve().parents,
            f"the frozen app would start {binary}, not the Redis bundled in {bundle}",
        )
    return str(binary)


def scan_logs(log_dir: Path) -> list[str]:
    """Lines in the children's logs that show a broken install (import errors, tracebacks)."""
    bad = []
    for path in sorted(log_dir.glob("*.log")):
        for line in path.read_text("utf-8", errors="replace").splitlines():
            if BAD_LOG_LINE.search(line):
                bad.append(f"{path.name}: {line.strip()}")
    return bad


def _tail(log_dir: Path, lines: int = 25) -> str:
    parts = []
    for path in sorted(log_dir.glob("*.log")):
        text = path.read_text("utf-8", errors="replace").splitlines()[-lines:]
        parts.append(f"--- {path.name} (last {len(text)} lines)\n" + "\n".join(text))
    return "\n".join(parts)


# --- the run ----------------------------------------------------------------------------------


def settings_for(data_dir: Path) -> Settings:
    """A private engine with one worker on data_dir, whatever this machine's settings say."""
    return load_settings(
        {
            "JUNMAI_DATA_DIR": str(data_dir),
            "JUNMAI_WORKERS": "1",
            "JUNMAI_REDIS": "private",
            "JUNMAI_MAX_RETRIES": "1",
            "JUNMAI_RETRY_BASE_S": "0.5",
        }
    )


def run(out: TextIO | None = None, *, timeout: float = TIMEOUT_S) -> int:
    """Run the self-test; 0 when every check passed, 1 otherwise (the reason is printed)."""
    report = Report(out or sys.stdout)
    frozen = bool(getattr(sys, "frozen", False))
    report.say(
        f"{'frozen app ' + sys.executable if frozen else 'from source, Python ' + sys.version.split()[0]}"
    )
    root = Path(tempfile.mkdtemp(prefix="junmai-selftest-"))
    settings = settings_for(root / "data")
    engine: Engine | None = None
    children: list[int] = []
    try:
        described = make_photos(root / "photos")
        report.say(f"made {len(described)} photos: " + "; ".join(described.values()))
        report.say(f"Redis: {check_redis_binary(find_redis_server(), frozen)}")
        engine = Engine(settings)
        manager = engine.start()
        assert engine.endpoint is not None
        report.say(
            f"engine up {report.since_process_start():.1f} s after start-up "
            f"(Redis {engine.endpoint.display}, 1 worker)"
        )
        if engine.endpoint.pid is not None:
            children.append(engine.endpoint.pid)
        result = manager.submit_session_processing(root / "photos", priority="high")
        first: float | None = None
        deadline = time.monotonic() + timeout
        while True:
            info = manager.session_info(result.session_id)
            if first is None and info.completed >= 1:
                first = report.since_process_start()
                report.say(f"first photo processed {first:.1f} s after start-up")
                commands = _worker_commands(engine)
                report.say(f"worker: {check_worker_command(commands, frozen)}")
                if engine.supervisor is not None:
                    children += [c.pid for c in engine.supervisor.children if c.pid]
            if info.done:
                break
            if time.monotonic() > deadline:
                raise SelfTestFailed(
                    f"not done after {timeout:.0f} s: {info.settled} of {info.total} photos "
                    f"settled, {info.open_jobs} jobs open"
                )
            time.sleep(POLL_S)
        photos = {Path(p.path).name: p for p in manager.session_photos(result.session_id)}
        for line in check_results(photos):
            report.say(line)
        bad = scan_logs(settings.log_dir)
        _check(not bad, "errors in the workers' logs:\n  " + "\n  ".join(bad))
        report.say("stopping")
        engine.stop()
        engine = None
        _wait_gone(children)
        report.say(
            f"OK: first photo {first:.1f} s after start-up, "
            f"total {report.since_process_start():.1f} s"
        )
        return 0
    except (SelfTestFailed, JunmaiError, OSError) as exc:
        report.say(f"FAILED: {exc}")
        if settings.log_dir.is_dir():
            print(_tail(settings.log_dir), file=report.out, flush=True)
        return 1
    finally:
        if engine is not None:
            engine.stop()
        shutil.rmtree(root, ignore_errors=True)


def _wait_gone(pids: list[int], timeout: float = 20.0) -> None:
    """Every child the engine started has ended (the app leaves nothing behind)."""
    deadline = time.monotonic() + timeout
    alive: Callable[[], list[int]] = lambda: [p for p in pids if _running(p)]  # noqa: E731
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    _check(not alive(), f"processes left running after the stop: {alive()}")


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


if __name__ == "__main__":
    sys.exit(run())
