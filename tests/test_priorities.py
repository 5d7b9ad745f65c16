"""Priority rules and the retry backoff (pure functions)."""

from __future__ import annotations

import random

import pytest

from engine.celery_app import priority_lists, score_priority, to_kombu_priority
from engine.config import RetryPolicy
from engine.flow import later_priority
from engine.jobs import backoff_s


def test_user_priorities_translate_to_kombu_where_zero_is_served_first():
    assert [to_kombu_priority(p) for p in (9, 5, 1)] == [0, 4, 8]
    assert to_kombu_priority(42) == 0 and to_kombu_priority(-3) == 9


@pytest.mark.parametrize(
    ("score", "priority"), [(4.9, 9), (4.5, 9), (4.49, 5), (3.5, 5), (3.4, 1), (None, 1)]
)
def test_scored_photos_later_jobs_follow_the_seed_rule(score, priority):
    assert score_priority(score) == priority
    assert later_priority(False, score) == priority
    assert later_priority(True, score) == 9


def test_queue_depth_reads_every_priority_sublist():
    assert priority_lists("low_priority")[:3] == [
        "low_priority",
        "low_priority:1",
        "low_priority:2",
    ]
    assert len(priority_lists("default")) == 10


def test_backoff_doubles_with_jitter_and_is_capped():
    rng = random.Random(7)
    policy = RetryPolicy()
    for n, (low, high) in enumerate([(2, 4), (4, 8), (8, 16)], start=1):
        waits = [backoff_s(n, policy, rng) for _ in range(200)]
        assert low <= min(waits) and max(waits) <= high
        assert max(waits) - min(waits) > (high - low) / 2  # really jittered
    assert backoff_s(12, policy, rng) == 600
