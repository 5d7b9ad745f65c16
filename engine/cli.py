"""junmai-engine: the command line. Results go to stdout, progress and messages to stderr.

Exit codes: 0 the work finished (even if some photos failed), 1 the engine could not do it
(Redis unreachable, no engine running for a client command), 2 bad usage.
"""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

from engine.config import Settings, load_settings
from engine.db import Database
from engine.errors import ConfigError, JunmaiError
from engine.manager import JobQueueManager, SubmitError
from engine.report import photo_rows, summary
from engine.runtime import Engine, connect, read_state, request_stop

log = logging.getLogger("engine")

EXIT_OK, EXIT_ENGINE, EXIT_USAGE = 0, 1, 2
F = TypeVar("F", bound=Callable[..., Any])


def _setup_logging(settings: Settings, name: str) -> None:
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(
        settings.log_dir / f"{name}.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


def _handled(func: F) -> F:
    """Turn the engine's errors into a one-line message and the documented exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SubmitError, ConfigError) as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except JunmaiError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_ENGINE)

    return wrapper  # type: ignore[return-value]


@contextmanager
def _client() -> Iterator[JobQueueManager]:
    manager = connect(_settings())
    try:
        yield manager
    finally:
        manager.close()


def _emit(data: Any, as_json: bool, text: Callable[[], str]) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else text())


def _run_self_test(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from engine.selftest import run as run_self_test

    ctx.exit(run_self_test())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--self-test",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_run_self_test,
    help="Process a few generated photos with a private Redis and one worker, check the "
    "results, and exit 0 (or 1 with the reason).",
)
def main() -> None:
    """Junmai AutoDev engine: turn folders of photos into culled, rated, developed shoots.

    Uses a private Redis and Celery workers that the engine starts itself; set REDIS_URL to
    use an external Redis or Memurai. Data lives in JUNMAI_DATA_DIR (default: the per-user
    data folder).
    """


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--recursive", "-r", is_flag=True, help="Include photos in subfolders.")
@click.option(
    "--priority",
    type=click.Choice(["high", "medium", "low"]),
    default="medium",
    show_default=True,
    help="high = urgent: every job of this shoot goes first.",
)
@click.option(
    "--auto-select", is_flag=True, help="Only photos scoring 3.5+ get presets and exports."
)
@click.option("--preset", help="Preset name for every photo (default: chosen by scene).")
@click.option(
    "--wait", is_flag=True, help="Wait until the shoot is done (starts an engine if none runs)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@_handled
def process(
    folder: Path,
    recursive: bool,
    priority: str,
    auto_select: bool,
    preset: str | None,
    wait: bool,
    as_json: bool,
) -> None:
    """Process the photos in FOLDER as one shoot (re-running adds only new or changed photos)."""
    settings = _settings()
    engine: Engine | None = None
    if read_state(settings) is None and wait:
        _setup_logging(settings, "engine")
        engine = Engine(settings)
        click.echo("Starting the engine (private Redis and workers)…", err=True)
        manager = engine.start()
    else:
        manager = connect(settings)
    started = time.monotonic()
    try:
        result = manager.submit_session_processing(
            folder, recursive=recursive, priority=priority, auto_select=auto_select, preset=preset
        )
        click.echo(
            f"{result.folder}: {result.found} photos, {result.new} new or changed.", err=True
        )
        if not wait:
            _emit(
                {"session_id": result.session_id, "found": result.found, "queued": result.new},
                as_json,
                lambda: f"Session {result.session_id}: {result.new} photos queued.",
            )
            return
        _wait_for(manager, result.session_id)
        data = summary(manager.db, result.session_id, time.monotonic() - started)
        _emit(data, as_json, lambda: _summary_text(data))
    finally:
        if engine is not None:
            click.echo("Stopping the engine…", err=True)
            engine.stop()
        else:
            manager.close()


def _wait_for(manager: JobQueueManager, session_id: int) -> None:
    info = manager.session_info(session_id)
    with tqdm(total=info.total, unit="photo", file=sys.stderr, disable=None) as bar:
        while True:
            info = manager.session_info(session_id)
            bar.total = info.total
            bar.n = info.settled
            bar.set_postfix(failed=info.failed + info.unsupported, jobs_left=info.open_jobs)
            bar.refresh()
            if info.done:
                return
            time.sleep(0.5)


def _summary_text(data: dict[str, Any]) -> str:
    lines = [
        f"Session {data['session_id']}: {data['completed']} of {data['total']} photos done, "
        f"{data['failed']} failed, {data['unsupported']} unsupported, {data['cancelled']} "
        f"cancelled; {data['groups']} groups; {data['elapsed_s']:.1f} s."
    ]
    lines += [f"  {f['file']}: {f['error']}" for f in data["failures"]]
    return "\n".join(lines)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@_handled
def status(as_json: bool) -> None:
    """Queue depth per queue, jobs by status, sessions."""
    with _client() as manager:
        stats = manager.get_queue_stats()
        sessions = manager.list_sessions(limit=10)
        data = {
            "paused": stats.paused,
            "depth": stats.depth,
            "jobs": stats.jobs_by_status,
            "sessions": [
                {"id": s.id, "name": s.name, "total": s.total, "settled": s.settled, "done": s.done}
                for s in sessions
            ],
        }

        def text() -> str:
            head = "PAUSED" if stats.paused else "running"
            depth = "  ".join(f"{q} {n}" for q, n in stats.depth.items())
            counts = "  ".join(f"{k} {v}" for k, v in sorted(stats.jobs_by_status.items()))
            rows = [
                f"  #{s.id} {s.name}: {s.settled}/{s.total}{' done' if s.done else ''}"
                for s in sessions
            ]
            return "\n".join([f"Queue {head}: {depth}", f"Jobs: {counts or 'none'}", *rows])

        _emit(data, as_json, text)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@_handled
def workers(as_json: bool) -> None:
    """Every worker on this Redis: state, current photo, processed, memory."""
    with _client() as manager:
        infos = manager.get_worker_stats()
        _emit(
            [w.__dict__ for w in infos],
            as_json,
            lambda: (
                "\n".join(
                    f"{w.name:<24} {w.state:<10} pid {w.pid}  done {w.processed}  failed {w.failed}"
                    f"  {(w.rss or 0) / 2**20:.0f} MB  {w.photo or ''} {w.note or ''}"
                    for w in infos
                )
                or "no workers"
            ),
        )


@main.command()
@click.option("--json", "as_json", is_flag=True)
@_handled
def failed(as_json: bool) -> None:
    """Jobs that failed for good, with why."""
    with _client() as manager:
        jobs = manager.get_failed_jobs()
        _emit(
            [j.__dict__ for j in jobs],
            as_json,
            lambda: (
                "\n".join(
                    f"#{j.id} {j.task} {Path(j.photo_path).name if j.photo_path else ''}: {j.error}"
                    f" (attempt {j.attempts}/{j.max_attempts})"
                    for j in jobs
                )
                or "no failed jobs"
            ),
        )


@main.command()
@_handled
def pause() -> None:
    """Pause the queue: running jobs finish, nothing new starts (until resume)."""
    with _client() as manager:
        manager.pause_queue()
    click.echo("Paused: running jobs finish, nothing new starts.")


@main.command()
@_handled
def resume() -> None:
    """Resume the queue."""
    with _client() as manager:
        manager.resume_queue()
    click.echo("Resumed.")


@main.command()
@click.argument("job_id", type=int)
@_handled
def cancel(job_id: int) -> None:
    """Cancel a queued or running job."""
    with _client() as manager:
        if not manager.cancel_job(job_id):
            raise SubmitError(f"job {job_id} is not queued or running")
    click.echo(f"Cancelled job {job_id}.")


@main.command()
@click.argument("job_id", type=int, required=False)
@click.option("--all-failed", is_flag=True, help="Retry every failed job.")
@_handled
def retry(job_id: int | None, all_failed: bool) -> None:
    """Run a failed job (or all failed jobs) again."""
    if (job_id is None) == (not all_failed):
        raise click.UsageError("give a JOB_ID or --all-failed")
    with _client() as manager:
        ids = manager.retry_all_failed() if all_failed else manager.retry_jobs([job_id or 0])
    if job_id is not None and not ids:
        raise SubmitError(f"job {job_id} has not failed")
    click.echo(f"Retrying {len(ids)} job(s).")


@main.command()
@click.argument("queue", required=False)
@_handled
def purge(queue: str | None) -> None:
    """Drop every waiting job of QUEUE (default: all queues); they end cancelled."""
    with _client() as manager:
        count = manager.purge_queue(queue)
    click.echo(f"Purged {count} job(s).")


@main.command()
@click.argument("session_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@_handled
def report(session_id: int, fmt: str) -> None:
    """Every photo of a session with its EXIF, scores, group and outputs (no engine needed)."""
    db = Database(_settings().db_url)
    try:
        rows = photo_rows(db, session_id)
    finally:
        db.dispose()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["path"])
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ";".join(v) if isinstance(v, list) else v for k, v in row.items()})


@main.command()
@_handled
def start() -> None:
    """Run the engine in this terminal until Ctrl+C or `junmai-engine stop`."""
    settings = _settings()
    _setup_logging(settings, "engine")
    engine = Engine(settings)
    engine.start()
    assert engine.endpoint is not None
    click.echo(
        f"Engine running: Redis {engine.endpoint.display}, {settings.workers} workers, "
        f"data in {settings.data_dir}. Ctrl+C stops it.",
        err=True,
    )

    def on_sigterm(*_: object) -> None:
        if engine.supervisor is not None:
            engine.supervisor.stop()

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        engine.wait()
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("Stopping the engine…", err=True)
        engine.stop()


@main.command()
@_handled
def stop() -> None:
    """Ask the running engine to stop (queued jobs resume at the next start)."""
    settings = _settings()
    state = request_stop(settings)
    deadline = time.monotonic() + 60
    while read_state(settings) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    if read_state(settings) is not None:
        raise JunmaiError(f"the engine (pid {state.owner_pid}) did not stop within 60 s")
    click.echo("Engine stopped.")


@main.command(hidden=True)
@click.argument("name")
@click.option("--owner-pid", type=int)
def worker(name: str, owner_pid: int | None) -> None:
    """Internal: one Celery worker process (started by the supervisor)."""
    from engine import worker as worker_role
    from engine.db import Database
    from engine.manager import PAUSED_FLAG
    from engine.models import EngineFlag

    settings = _settings()
    db = Database(settings.db_url)
    with db.read() as session:
        flag = session.get(EngineFlag, PAUSED_FLAG)
    db.dispose()
    worker_role.run(settings, name, owner_pid, paused=flag is not None and flag.value == "1")


@main.command(hidden=True)
@click.argument("name")
@click.option("--owner-pid", type=int)
def beat(name: str, owner_pid: int | None) -> None:
    """Internal: the periodic scheduler (one per Redis)."""
    from engine.beat import run as run_beat

    run_beat(_settings(), owner_pid)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    main()
