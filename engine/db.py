"""Database access: engine creation (SQLite tuned for many writer processes, or PostgreSQL),
short read and write transactions, and schema migration with Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 60_000


def _tune_sqlite(engine: Engine, *, immediate: bool) -> None:
    """WAL + busy timeout on every connection; writers start with BEGIN IMMEDIATE.

    A deferred transaction that has read and then writes after another process committed
    fails with "database is locked" at once, busy timeout or not. BEGIN IMMEDIATE takes the
    write lock up front, so writers queue on the busy timeout instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One database URL, with a write path and a read path."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self._write_engine = create_engine(url)
            self._read_engine = create_engine(url)
            _tune_sqlite(self._write_engine, immediate=True)
            _tune_sqlite(self._read_engine, immediate=False)
        else:
            self._write_engine = create_engine(url, pool_pre_ping=True, pool_size=2)
            self._read_engine = self._write_engine
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self._read_engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[OrmSession]:
        """A short write transaction, committed on success and rolled back on error."""
        with self._writer.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[OrmSession]:
        """A read-only look; never blocks writers."""
        with self._reader() as session:
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest revision (run by the engine owner at start)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self._write_engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self._write_engine.dispose()
        self._read_engine.dispose()
