"""The one place that sends jobs to Redis: priority translated, every message explicit,
a whole session in pipelined batches rather than one round trip per photo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from celery import Celery

from engine.celery_app import DEFAULT, ROUTES, to_kombu_priority

BATCH_SIZE = 1000


@dataclass(frozen=True)
class Message:
    """What to send for one attempt of one job."""

    job_id: int
    task: str
    task_id: str  # this attempt's Celery id, already stored on the job
    priority: int  # user scale, 9 = urgent


def publish(app: Celery, messages: Sequence[Message]) -> None:
    """Send the messages, batched through kombu's pipelined publisher.

    Raises the broker's error if Redis is unreachable; the caller puts the jobs back to
    pending so nothing is lost.
    """
    if not messages:
        return
    queues = app.amqp.queues
    with app.producer_or_acquire() as producer:
        # Declared once here rather than per message (kombu caches it, at a cost per call).
        for name in {ROUTES.get(m.task, DEFAULT) for m in messages}:
            producer.maybe_declare(queues[name])
        with producer.batch(max_size=BATCH_SIZE):
            for message in messages:
                app.send_task(
                    message.task,
                    args=(message.job_id,),
                    task_id=message.task_id,
                    queue=ROUTES.get(message.task, DEFAULT),
                    priority=to_kombu_priority(message.priority),
                    producer=producer,
                    ignore_result=True,
                    declare=[],  # declared above
                    retry=False,  # a failed batch is handled whole by the caller
                )
