"""Exports survive a dead worker and a lost task: the export sweep restarts one whose worker
stopped beating, fails it with a message after the last attempt, and enqueues again one that
was queued while the broker was down."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from servicedesk.reports import services
from servicedesk.reports.models import Export, ExportKind, ExportStatus
from tests.broker import broker_unreachable

from .test_exports import NEW, _english, cases, desk  # noqa: F401

pytestmark = pytest.mark.django_db


def test_an_export_asked_for_while_the_broker_is_down_is_saved_and_swept_later(
    client,
    supervisor,
    cases,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client.force_login(supervisor)
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, {"kind": "cases", "query": ""})
    assert response.status_code == 302  # the export is saved, the page works
    export = Export.objects.get()
    assert export.status == ExportStatus.QUEUED
    later = timezone.now() + datetime.timedelta(minutes=3)
    with time_machine.travel(later, tick=False):
        assert services.export_sweep() == (1, 0)  # its task is sent again …
        assert services.export_sweep() == (0, 0)  # … once per stale period
    export = services.export_run(export_id=export.pk)
    assert export.status == ExportStatus.DONE and export.total_rows == 4


def test_an_export_whose_worker_died_restarts_then_fails_with_a_message(
    supervisor,
    cases,  # noqa: F811
    settings,
):
    export = Export.objects.create(kind=ExportKind.CASES, requested_by=supervisor, filters={})
    start = timezone.now()
    # A worker claimed it and was killed: the heartbeat stops at `start`.
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, started_at=start, heartbeat_at=start, attempts=1
    )
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        assert services.export_sweep() == (0, 0)  # still within the stale limit
    with time_machine.travel(start + datetime.timedelta(minutes=2), tick=False):
        assert services.export_sweep() == (1, 0)  # restarted (and enqueued)
        export.refresh_from_db()
        assert export.status == ExportStatus.QUEUED and "restarted" in export.error
        # The second run dies too.
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.RUNNING, heartbeat_at=timezone.now(), attempts=2
        )
    with time_machine.travel(start + datetime.timedelta(minutes=4), tick=False):
        assert services.export_sweep() == (0, 1)
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert "interrupted 2 times" in export.error and export.finished_at is not None


def test_a_run_keeps_its_heartbeat_and_a_second_delivery_does_nothing(
    supervisor,
    cases,  # noqa: F811
):
    export = Export.objects.create(kind=ExportKind.CASES, requested_by=supervisor, filters={})
    done = services.export_run(export_id=export.pk)
    assert done.status == ExportStatus.DONE and done.attempts == 1
    assert done.heartbeat_at is not None
    assert services.export_run(export_id=export.pk) is None
