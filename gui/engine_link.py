"""Owner or client: on launch the window runs the engine of its data dir (private Redis and
workers) or, when another process already runs it, connects to it as a client.

Both functions block (starting Redis and workers takes seconds): call them off the UI thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from engine.broker import RedisEndpoint
from engine.config import Settings
from engine.manager import JobQueueManager
from engine.runtime import Engine, EngineAlreadyRunning, connect, read_state


@dataclass(frozen=True)
class Connection:
    """The window's way to the engine. `engine` is set when this process owns it."""

    settings: Settings
    manager: JobQueueManager
    endpoint: RedisEndpoint
    engine: Engine | None
    owner_pid: int

    @property
    def owner(self) -> bool:
        return self.engine is not None


def open_engine(settings: Settings) -> Connection:
    """Become the engine's owner for `settings.data_dir`, or its client if one runs."""
    if read_state(settings) is None:
        engine = Engine(settings)
        try:
            manager = engine.start()
        except EngineAlreadyRunning:
            pass  # another window or CLI won the race: be its client
        else:
            assert engine.endpoint is not None
            return Connection(settings, manager, engine.endpoint, engine, os.getpid())
    manager = connect(settings)
    state = read_state(settings)
    if state is None:  # the owner stopped between the two reads
        manager.close()
        return open_engine(settings)
    return Connection(settings, manager, state.endpoint, None, state.owner_pid)


def close_engine(connection: Connection) -> None:
    """Owner: stop workers and Redis (queued jobs resume at the next start). Client: disconnect."""
    if connection.engine is not None:
        connection.engine.stop()
    else:
        connection.manager.close()
