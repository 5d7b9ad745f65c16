"""The Celery application: queues, routing, priorities and every broker setting.

Workers run the solo pool everywhere (prefork does not run on Windows, and what we test
should be what photographers run); parallelism is several worker processes, and the limits
Celery enforces only under prefork (time limits, max tasks per child) are the supervisor's.
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from engine.models import TaskName

HIGH, MEDIUM, LOW, DEFAULT = "high_priority", "medium_priority", "low_priority", "default"
# Consumption order within one priority step ('priority' strategy polls queues in this order).
QUEUES: tuple[str, ...] = (HIGH, MEDIUM, LOW, DEFAULT)
PRIORITY_SEP = ":"
PRIORITY_STEPS = tuple(range(10))

ROUTES: dict[str, str] = {
    TaskName.ANALYZE_EXIF: HIGH,
    TaskName.APPLY_PRESET: HIGH,
    TaskName.PROCESS_PHOTO: MEDIUM,
    TaskName.EVALUATE_QUALITY: MEDIUM,
    TaskName.GROUP_SIMILAR: LOW,
    TaskName.EXPORT_PHOTO: LOW,
    TaskName.CLEANUP: DEFAULT,
    TaskName.SYSTEM_METRICS: DEFAULT,
}

# The user-facing scale (the seed's): 9 high, 5 medium, 1 low.
PRIORITY_HIGH, PRIORITY_MEDIUM, PRIORITY_LOW = 9, 5, 1
PRIORITY_NAMES = {"high": PRIORITY_HIGH, "medium": PRIORITY_MEDIUM, "low": PRIORITY_LOW}

# An unacked message of a killed worker comes back after this long. The database decides
# what runs (a stale redelivery is skipped by the claim), so this only needs to exceed the
# hard limit, so that a long job is not handed to a second worker while it still runs.
VISIBILITY_TIMEOUT_S = 1800


def to_kombu_priority(user_priority: int) -> int:
    """Translate our 9-is-urgent scale to kombu's Redis emulation, where 0 is served first."""
    return 9 - min(max(int(user_priority), 0), 9)


def score_priority(score: float | None) -> int:
    """The seed's rule for a scored photo's later jobs: >= 4.5 high, >= 3.5 medium, else low."""
    if score is not None and score >= 4.5:
        return PRIORITY_HIGH
    if score is not None and score >= 3.5:
        return PRIORITY_MEDIUM
    return PRIORITY_LOW


def priority_lists(queue: str) -> list[str]:
    """The Redis lists holding one queue's messages, one per priority step."""
    return [queue if step == 0 else f"{queue}{PRIORITY_SEP}{step}" for step in PRIORITY_STEPS]


def create_app(broker_url: str, task_modules: tuple[str, ...] = ()) -> Celery:
    """A configured Celery app; the worker role also imports the task modules."""
    app = Celery("junmai", set_as_current=False)
    app.conf.update(
        broker_url=broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "priority_steps": list(PRIORITY_STEPS),
            "sep": PRIORITY_SEP,
            "queue_order_strategy": "priority",
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
        },
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # the database is the result store
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_queues=[Queue(name, routing_key=name) for name in QUEUES],
        task_default_queue=DEFAULT,
        task_routes={name: {"queue": queue} for name, queue in ROUTES.items()},
        # A message without a priority would count as 0 (first): never let one through.
        task_default_priority=to_kombu_priority(PRIORITY_MEDIUM),
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        imports=("engine.tasks", *task_modules),
    )
    return app
