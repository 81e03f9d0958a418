"""The monthly report as the scheduler makes it at 02:00 on the 1st (the task is called
directly: it is one line), stored with its record; once per month and language unless made
again on purpose; reports for other periods; bad periods refused with nothing stored."""

import datetime
import os

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation
from django_celery_beat.models import PeriodicTask
from openpyxl import load_workbook

from servicedesk.reports import services, tasks, workbook
from servicedesk.reports.models import Report, ReportKind
from servicedesk.staff.models import Notification

from .report_helpers import at, build_month

NOV_1, NOV_30 = datetime.date(2026, 11, 1), datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def month(make_user, department, supervisor):
    return build_month(make_user, department, supervisor)


def scheduled_at(when):
    with time_machine.travel(when, tick=False):
        return Report.objects.get(pk=tasks.monthly_report())


def case_list_title(language):
    with translation.override(language):
        return str(workbook.SHEETS[-1][1])


def stored_files(settings):
    folder = settings.MEDIA_ROOT / "reports"
    return sorted(p.name for p in folder.rglob("*.xlsx")) if folder.exists() else []


def test_the_scheduler_runs_the_task_at_two_on_the_first(db):
    row = PeriodicTask.objects.select_related("crontab").get(name="reports.monthly_report")
    assert row.task == tasks.monthly_report.name == "servicedesk.reports.tasks.monthly_report"
    assert (row.crontab.minute, row.crontab.hour, row.crontab.day_of_month) == ("0", "2", "1")


def test_on_the_first_at_two_the_task_stores_last_months_report(month, settings):
    report = scheduled_at(at(2026, 12, 1, 2))
    assert (report.kind, report.period_start, report.period_end) == (
        ReportKind.MONTHLY, NOV_1, NOV_30,
    )  # fmt: skip
    assert report.language == settings.LANGUAGE_CODE == "zh-hans"
    assert report.generated_by is None and report.is_current
    assert report.generated_at == at(2026, 12, 1, 2)
    assert report.file.name.startswith("reports/2026/12/monthly-report-2026-11-zh-hans")
    assert report.size == os.path.getsize(report.file.path) > 0
    assert report.row_counts[case_list_title("zh-hans")] == 8
    assert len(report.row_counts) == len(workbook.SHEETS)
    wb = load_workbook(report.file.path, read_only=True)
    assert set(wb.sheetnames) == set(report.row_counts)  # jsonb does not keep the key order
    # The temporary file the workbook was streamed to is gone.
    assert os.listdir(settings.MEDIA_ROOT / "tmp") == []


def test_the_managers_are_told_once(month, manager, supervisor):
    report = scheduled_at(at(2026, 12, 1, 2))
    scheduled_at(at(2026, 12, 1, 3))
    told = Notification.objects.filter(event_key=f"report:{report.pk}")
    assert [n.recipient for n in told] == [manager]
    assert "2026-11" in told.get().subject
    assert told.get().link.endswith(f"/{report.pk}/change/")


def test_january_the_first_makes_decembers_report(db):
    report = scheduled_at(at(2027, 1, 1, 2))
    assert (report.period_start, report.period_end) == (
        datetime.date(2026, 12, 1), datetime.date(2026, 12, 31),
    )  # fmt: skip
    assert report.row_counts[case_list_title("zh-hans")] == 0


def test_the_same_month_twice_is_stored_once(month, settings):
    first = scheduled_at(at(2026, 12, 1, 2))
    again = scheduled_at(at(2026, 12, 1, 2, 15))
    assert again.pk == first.pk
    assert Report.objects.count() == 1
    assert len(stored_files(settings)) == 1


def test_made_again_on_purpose_it_replaces_the_current_one_and_keeps_the_old(
    month, manager, settings
):
    first = scheduled_at(at(2026, 12, 1, 2))
    with time_machine.travel(at(2026, 12, 2, 9), tick=False):
        again = services.report_generate(
            start=NOV_1, end=NOV_30, kind=ReportKind.MONTHLY, user=manager, force=True
        )
    first.refresh_from_db()
    assert again.pk != first.pk
    assert again.is_current and not first.is_current
    assert again.generated_by == manager and again.generated_at == at(2026, 12, 2, 9)
    assert os.path.exists(first.file.path) and os.path.exists(again.file.path)
    assert len(stored_files(settings)) == 2
    # The scheduler running late once more returns the current one.
    assert scheduled_at(at(2026, 12, 2, 10)).pk == again.pk


def test_one_monthly_report_per_language(month):
    chinese = scheduled_at(at(2026, 12, 1, 2))
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        english = services.report_generate(
            start=NOV_1, end=NOV_30, kind=ReportKind.MONTHLY, language="en"
        )
    assert english.pk != chinese.pk and english.is_current and chinese.is_current
    assert load_workbook(english.file.path, read_only=True).sheetnames[0] == "Summary"
    assert english.row_counts["Case list"] == 8


def test_a_report_for_any_period_is_stored_each_time(month, manager):
    """10–20 November: C, I and D."""
    with time_machine.travel(at(2026, 12, 3, 9), tick=False):
        one = services.report_generate(
            start=datetime.date(2026, 11, 10), end=datetime.date(2026, 11, 20),
            user=manager, language="en",
        )  # fmt: skip
        two = services.report_generate(
            start=datetime.date(2026, 11, 10), end=datetime.date(2026, 11, 20),
            user=manager, language="en",
        )  # fmt: skip
    assert one.pk != two.pk and one.kind == ReportKind.PERIOD
    assert one.row_counts["Case list"] == 3
    assert one.file.name.endswith(".xlsx") and "report-20261110-20261120-en" in one.file.name


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": NOV_30, "end": NOV_1}, "end"),
        ({"start": NOV_1, "end": datetime.date(2026, 11, 29), "kind": "monthly"}, "start"),
        ({"start": datetime.date(2026, 11, 2), "end": NOV_30, "kind": "monthly"}, "start"),
        ({"start": NOV_1, "end": NOV_30, "language": "fr"}, "language"),
        ({"start": NOV_1, "end": NOV_30, "kind": "weekly"}, "kind"),
    ],
)
def test_bad_periods_are_refused_field_by_field_and_nothing_is_stored(db, settings, kwargs, field):
    with pytest.raises(ValidationError) as error:
        services.report_generate(**kwargs)
    assert field in error.value.message_dict
    assert Report.objects.count() == 0
    assert stored_files(settings) == []
