"""The Celery application: configured from Django settings (CELERY_ namespace), tasks autodiscovered.

Task defaults every task inherits: acks_late and reject-on-worker-lost (settings), JSON only,
retries with exponential backoff on I/O errors (`BaseTask` below). Tasks take ids, are
idempotent and are enqueued on commit with `servicedesk.outbox.enqueue_on_commit`, which
never raises into the request (a sweep picks the work up when the broker was down).
"""

import os

from celery import Celery
from celery.contrib.django.task import DjangoTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")


class BaseTask(DjangoTask):
    # Transient failures (mail server, broker, database connection) are retried with
    # exponential backoff; anything else is a bug and fails loudly.
    autoretry_for = (OSError, ConnectionError, TimeoutError)
    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 8
    acks_late = True
    reject_on_worker_lost = True


app = Celery("servicedesk", task_cls=BaseTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
