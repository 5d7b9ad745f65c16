"""The last minutes of the queue, kept on the UI side from successive snapshots: depth per
queue for the chart, photos per minute and a session's ETA."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.snapshots import SessionInfo

CHART_WINDOW_S = 600.0  # the chart shows the last 10 minutes
RATE_WINDOW_S = 60.0  # throughput is measured over the last minute
MIN_RATE_SPAN_S = 3.0


@dataclass(frozen=True)
class Sample:
    taken_at: float
    depth: Mapping[str, int]
    settled: Mapping[int, int]  # session id -> photos settled


class History:
    """A rolling window of samples; `add` one per snapshot, oldest dropped after 10 min."""

    def __init__(self, window_s: float = CHART_WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[Sample] = deque()

    def add(
        self, taken_at: float, depth: Mapping[str, int], sessions: Iterable[SessionInfo]
    ) -> None:
        self._samples.append(Sample(taken_at, dict(depth), {s.id: s.settled for s in sessions}))
        while self._samples and taken_at - self._samples[0].taken_at > self.window_s:
            self._samples.popleft()

    def clear(self) -> None:
        self._samples.clear()

    def depth_series(self, queue: str) -> tuple[list[float], list[int]]:
        """(minutes before the latest sample — negative —, depth) for one queue."""
        if not self._samples:
            return [], []
        now = self._samples[-1].taken_at
        xs = [(s.taken_at - now) / 60.0 for s in self._samples]
        return xs, [s.depth.get(queue, 0) for s in self._samples]

    def photos_per_min(self, session_id: int | None = None) -> float | None:
        """Photos settled per minute over the last minute (one session or all); None until
        there are a few seconds of samples."""
        pair = self._rate_pair()
        if pair is None:
            return None
        old, new = pair
        ids = [session_id] if session_id is not None else list(new.settled)
        done = sum(
            max(0, new.settled[i] - old.settled[i])
            for i in ids
            if i in new.settled and i in old.settled
        )
        return done * 60.0 / (new.taken_at - old.taken_at)

    def eta_s(self, session: SessionInfo) -> float | None:
        """Seconds until `session` has settled every photo, at its recent pace (None when it is
        not moving or there is not enough history)."""
        remaining = session.total - session.settled
        if remaining <= 0:
            return 0.0
        per_min = self.photos_per_min(session.id)
        if not per_min:
            return None
        return remaining / per_min * 60.0

    def _rate_pair(self) -> tuple[Sample, Sample] | None:
        if len(self._samples) < 2:
            return None
        new = self._samples[-1]
        old = next(s for s in self._samples if new.taken_at - s.taken_at <= RATE_WINDOW_S)
        if new.taken_at - old.taken_at < MIN_RATE_SPAN_S:
            return None
        return old, new


def current_session(sessions: Iterable[SessionInfo]) -> SessionInfo | None:
    """The session the photographer is waiting for: the newest one still running, else the
    newest one."""
    ordered = sorted(sessions, key=lambda s: s.id, reverse=True)
    running = [s for s in ordered if not s.done]
    if running:
        return running[0]
    return ordered[0] if ordered else None
