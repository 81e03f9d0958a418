"""On-demand exports end to end: asked for from the filtered case list in the admin, run in
the background (a real worker once; the service directly otherwise), progress, the file and
its rows, masking of personal data, the audit list and downloads, idempotency, permissions
and query counts."""

import datetime
import io
import itertools
import os
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from complaints import services as case_services
from complaints.models import Case, mask_email, mask_phone
from servicedesk.reports import exports, services, tasks
from servicedesk.reports.models import Export, ExportKind, ExportStatus, Report
from servicedesk.staff import roles
from servicedesk.staff.models import Department
from tests.conftest import wait_until

CASES = reverse("admin:complaints_case_changelist")
NEW = reverse("admin:reports_export_add")
EXPORTS = reverse("admin:reports_export_changelist")

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    # Assertions read the English labels; files go to a fresh media folder.
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path / "media"


def intake(**overrides):
    n = next(_seq)
    data = {
        "channel": "phone",
        "customer": {"name": f"客户{n}", "phone": f"139{n:08d}", "email": f"kehu{n}@example.com"},
        "subject": f"第{n}号：订单{n}的商品与描述不符",
        "description": "客户来电反映收到的商品与页面描述不一致。",
        "type": "complaint",
        "category": "product",
    }
    data.update(overrides)
    return case_services.case_intake(**data).case


@pytest.fixture
def desk(db):
    """A department without handlers: its new cases stay "received" (no automatic assignment)."""
    return Department.objects.create(code="desk", name="投诉受理台")


@pytest.fixture
def cases(desk, department, agent, supervisor):
    """Three received cases at the desk, and one passed on to the agent's department."""
    received = [intake(department=desk) for _ in range(3)]
    assigned = intake(department=desk)
    case_services.case_transition(
        case=assigned, name="assign", user=supervisor, department=department, assignee=agent
    )
    return {"received": received, "assigned": assigned}


@pytest.fixture
def clerk(make_user, desk, cases):
    """A desk handler allowed to export but not to see customers' full contact details
    (created after the cases, so none was assigned to them)."""
    user = make_user("clerk", role=roles.HANDLER, departments=[desk])
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reports", codename__in=["add_export", "view_export"]
        )
    )
    return user


def new_case_export_url(query):
    return NEW + "?" + urlencode({"kind": "cases", "query": query})


def export_url(export):
    return reverse("admin:reports_export_change", args=[export.pk])


def download_url(export):
    return reverse("admin:reports_export_download", args=[export.pk])


def sheet_rows(path_or_bytes):
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    wb = load_workbook(source, read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def rows_by_number(export):
    export.file.open("rb")
    try:
        rows = sheet_rows(export.file.read())
    finally:
        export.file.close()
    header, body = rows[0], rows[1:]
    # Empty trailing cells are not stored: a row may be shorter than the header.
    return header, {r[0]: dict(itertools.zip_longest(header, r)) for r in body}


def request_export(client, query):
    response = client.post(NEW, {"kind": "cases", "query": query})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Export.objects.latest("requested_at")


# --- asking for an export ----------------------------------------------------------------


def test_case_list_offers_export_of_the_filtered_list(client, supervisor, agent, cases):
    client.force_login(supervisor)
    page = client.get(CASES + "?state=received").content.decode()
    assert "Export this list" in page
    assert f"{NEW}?kind=cases&amp;query=state%3Dreceived" in page

    client.force_login(agent)  # no reports.add_export
    assert "Export this list" not in client.get(CASES + "?state=received").content.decode()


def test_supervisor_exports_the_filtered_case_list(
    client, supervisor, cases, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    page = client.get(new_case_export_url("state=received&p=2"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "state: Received" in text
    assert "3 cases" in text
    assert "exported in full" in text

    with django_capture_on_commit_callbacks() as enqueued:
        response = client.post(NEW, {"kind": "cases", "query": "state=received&p=2"})
    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == export_url(export)
    assert len(enqueued) == 1  # the background task, sent once the request commits
    assert export.kind == ExportKind.CASES
    assert export.requested_by == supervisor
    assert export.filters == {"query": "state=received", "language": "en"}  # the page dropped
    assert export.filter_description == "state: Received"
    assert export.status == ExportStatus.QUEUED
    assert export.masked is False

    export = services.export_run(export_id=export.pk)

    assert export.status == ExportStatus.DONE
    assert export.total_rows == export.rows_done == 3
    assert export.progress == 100
    assert export.started_at and export.finished_at and export.size > 0
    header, rows = rows_by_number(export)
    assert header[:3] == ["Case number", "Received at", "Channel"]
    assert set(rows) == {c.number for c in cases["received"]}
    first = cases["received"][0]
    assert rows[first.number]["Phone"] == first.customer.phone  # in full
    assert rows[first.number]["E-mail"] == first.customer.email
    assert rows[first.number]["State"] == "Received"
    assert isinstance(rows[first.number]["Received at"], datetime.datetime)


def test_masked_export_for_someone_without_personal_data(client, clerk, cases):
    client.force_login(clerk)
    assert "will be masked" in client.get(new_case_export_url("")).content.decode()
    export = request_export(client, "")
    assert export.masked is True
    assert export.filter_description == "All cases visible to the requester"

    export = services.export_run(export_id=export.pk)

    _header, rows = rows_by_number(export)
    assert set(rows) == {c.number for c in cases["received"]}  # the desk's cases
    for case in cases["received"]:
        row = rows[case.number]
        assert row["Phone"] == mask_phone(case.customer.phone) != case.customer.phone
        assert row["E-mail"] == mask_email(case.customer.email) != case.customer.email


def test_export_only_holds_cases_the_requester_may_see(client, clerk, cases):
    elsewhere = Department.objects.create(code="tech", name="技术部")
    hidden = intake(department=elsewhere)
    client.force_login(clerk)
    export = services.export_run(export_id=request_export(client, "").pk)
    _header, rows = rows_by_number(export)
    assert hidden.number not in rows
    assert cases["assigned"].number not in rows  # now with another department
    assert set(rows) == {c.number for c in cases["received"]}


def test_search_and_several_filters_are_kept(client, supervisor, cases):
    target = cases["received"][1]
    client.force_login(supervisor)
    query = urlencode({"state": "received", "channel__exact": "phone", "q": target.number})
    export = request_export(client, query)
    assert "state: Received" in export.filter_description
    assert "channel: Phone" in export.filter_description
    assert f"“{target.number}”" in export.filter_description
    _header, rows = rows_by_number(services.export_run(export_id=export.pk))
    assert list(rows) == [target.number]


def test_a_filter_the_case_list_refuses_is_not_exported(client, supervisor, cases):
    client.force_login(supervisor)
    page = client.get(new_case_export_url("nosuchfield__exact=1"))
    assert page.status_code == 200
    assert "cannot be used" in page.content.decode()
    client.post(NEW, {"kind": "cases", "query": "nosuchfield__exact=1"})
    assert not Export.objects.exists()


def test_a_stored_filter_that_no_longer_works_fails_the_export(supervisor, cases):
    # Saved before a list filter was renamed, say: the export fails with the reason.
    export = Export.objects.create(
        kind=ExportKind.CASES, requested_by=supervisor, filters={"query": "gone__exact=1"}
    )
    export = services.export_run(export_id=export.pk)
    assert export.status == ExportStatus.FAILED
    assert "cannot be used" in export.error
    assert not export.file


def test_period_errors_are_shown_on_the_fields(client, supervisor):
    client.force_login(supervisor)
    page = client.get(NEW).content.decode()
    assert "The cases received in the period" in page
    assert "report workbook" not in page  # workbooks are for managers
    data = {"kind": "period", "what": "cases", "start": "2026-11-30", "end": "2026-11-01"}
    response = client.post(NEW, data)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "end": ["The end of the period is before its start."]
    }
    response = client.post(NEW, {**data, "start": "soon", "end": ""})
    assert set(response.context["form"].errors) == {"start", "end"}
    response = client.post(NEW, {**data, "what": "report", "end": "2026-11-30"})
    assert set(response.context["form"].errors) == {"what"}
    assert not Export.objects.exists()
    with pytest.raises(PermissionDenied):
        services.export_request(
            kind=ExportKind.REPORT,
            user=supervisor,
            filters={"from": "2026-11-01", "to": "2026-11-30"},
        )


def test_cases_received_in_a_period(client, supervisor, desk):
    def received(*args):
        return intake(department=desk, now=timezone.make_aware(datetime.datetime(*args)))

    received(2026, 10, 31, 23, 59)
    inside = [received(2026, 11, 1, 0, 0), received(2026, 11, 30, 23, 59)]
    received(2026, 12, 1, 0, 0)
    client.force_login(supervisor)
    data = {"kind": "period", "what": "cases", "start": "2026-11-01", "end": "2026-11-30"}
    confirm = client.post(NEW, data)
    assert confirm.status_code == 302  # to the same confirmation as any case list
    page = client.get(confirm["Location"]).content.decode()
    assert "received at ≥ 2026-11-01 00:00" in page
    assert "received at &lt; 2026-12-01 00:00" in page
    assert "2 cases" in page
    export = request_export(client, dict(parse_qsl(urlsplit(confirm["Location"]).query))["query"])
    assert "received at ≥ 2026-11-01 00:00" in export.filter_description
    _header, rows = rows_by_number(services.export_run(export_id=export.pk))
    assert set(rows) == {c.number for c in inside}


def test_manager_exports_the_report_workbook_of_a_period(client, manager, desk):
    for day in (3, 4):
        intake(department=desk, now=timezone.make_aware(datetime.datetime(2026, 11, day, 10)))
    client.force_login(manager)
    assert "report workbook" in client.get(NEW).content.decode()
    data = {"kind": "period", "what": "report", "start": "2026-11-01", "end": "2026-11-30"}
    response = client.post(NEW, data)
    export = Export.objects.get()
    assert response["Location"] == export_url(export)
    assert export.kind == ExportKind.REPORT
    assert export.filters == {"from": "2026-11-01", "to": "2026-11-30", "language": "en"}
    assert export.masked is True  # the workbook's case list is always masked

    export = services.export_run(export_id=export.pk)

    assert export.status == ExportStatus.DONE, export.error
    report = Report.objects.get()
    assert export.file.name == report.file.name  # one stored file
    assert export.rows_done == export.total_rows == 2
    body = b"".join(client.get(download_url(export)).streaming_content)
    assert len(load_workbook(io.BytesIO(body), read_only=True).sheetnames) > 1


def test_agent_without_the_permission_gets_403(client, agent, cases):
    client.force_login(agent)
    assert client.get(new_case_export_url("state=received")).status_code == 403
    assert client.post(NEW, {"kind": "cases", "query": ""}).status_code == 403
    assert client.post(NEW, {"kind": "period", "start": "2026-11-01"}).status_code == 403
    assert client.get(EXPORTS).status_code == 403
    assert not Export.objects.exists()


# --- progress ----------------------------------------------------------------------------


def test_writer_reports_progress_every_n_rows(tmp_path):
    seen = []
    written = exports.write_sheet(
        tmp_path / "x.xlsx",
        title="T",
        headers=["a", "b"],
        rows=([i, i * 2] for i in range(5)),
        on_progress=seen.append,
        every=2,
    )
    assert written == 5
    assert seen == [2, 4, 5]
    rows = sheet_rows(str(tmp_path / "x.xlsx"))
    assert rows[0] == ["a", "b"] and len(rows) == 6
    ws = load_workbook(tmp_path / "x.xlsx").worksheets[0]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:B6"


def test_progress_is_shown_and_the_page_refreshes_while_running(client, supervisor, cases):
    client.force_login(supervisor)
    export = request_export(client, "state=received")
    page = client.get(export_url(export)).content.decode()
    assert '<meta http-equiv="refresh" content="3">' in page
    assert "Queued" in page

    # Half-way through a big export, as the worker's progress updates leave it.
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, started_at=timezone.now(), total_rows=2000, rows_done=1000
    )
    page = client.get(export_url(export)).content.decode()
    assert '<progress class="sd-progress" value="50" max="100">' in page
    assert "1000 / 2000" in page
    assert '<meta http-equiv="refresh"' in page
    listing = client.get(EXPORTS).content.decode()
    assert '<progress class="sd-progress" value="50" max="100">' in listing

    Export.objects.filter(pk=export.pk).update(status=ExportStatus.QUEUED)
    services.export_run(export_id=export.pk)
    page = client.get(export_url(export)).content.decode()
    assert '<meta http-equiv="refresh"' not in page
    assert "3 / 3" in page
    assert download_url(export) in page


# --- audit and downloads -----------------------------------------------------------------


def test_audit_list_and_downloads(client, supervisor, manager, make_user, department, cases):
    other = make_user("supervisor2", role=roles.SUPERVISOR, departments=[department])
    client.force_login(supervisor)
    mine = services.export_run(export_id=request_export(client, "state=received").pk)
    client.force_login(other)
    theirs = services.export_run(export_id=request_export(client, "").pk)

    # Supervisors see their own exports only.
    client.force_login(supervisor)
    listing = client.get(EXPORTS)
    assert [e.pk for e in listing.context["cl"].result_list] == [mine.pk]
    assert client.get(download_url(theirs)).status_code == 403

    response = client.get(download_url(mine))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert len(sheet_rows(body)) == 4
    mine.refresh_from_db()
    assert mine.download_count == 1 and mine.downloaded_at is not None

    # Managers audit everyone's: who, when, what filter, how many rows, masked or not.
    client.force_login(manager)
    listing = client.get(EXPORTS)
    assert {e.pk for e in listing.context["cl"].result_list} == {mine.pk, theirs.pk}
    text = listing.content.decode()
    assert "state: Received" in text and "All cases visible to the requester" in text
    assert "3 / 3" in text and "4 / 4" in text
    assert str(other) in text and str(supervisor) in text
    assert client.get(download_url(theirs)).status_code == 200
    theirs.refresh_from_db()
    assert theirs.download_count == 1

    # An audit record is never changed or deleted.
    page = client.get(export_url(mine))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    delete = reverse("admin:reports_export_delete", args=[mine.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Export.objects.count() == 2


def test_no_download_before_the_export_is_done(client, supervisor, cases):
    client.force_login(supervisor)
    export = request_export(client, "")
    assert client.get(download_url(export)).status_code == 404
    export.refresh_from_db()
    assert export.download_count == 0


def test_export_list_queries_do_not_grow_with_rows(
    client, manager, supervisor, cases, django_assert_max_num_queries
):
    for _ in range(2):
        services.export_request(kind=ExportKind.CASES, user=supervisor, filters={"query": ""})
    client.force_login(manager)
    with django_assert_max_num_queries(20) as few:
        assert client.get(EXPORTS).status_code == 200
    for _ in range(10):
        services.export_request(kind=ExportKind.CASES, user=supervisor, filters={"query": ""})
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(EXPORTS).status_code == 200


# --- idempotency -------------------------------------------------------------------------


def test_running_twice_makes_one_file(client, supervisor, cases, settings):
    client.force_login(supervisor)
    export = request_export(client, "state=received")
    tasks.export_run.apply(args=[export.pk]).get()
    tasks.export_run.apply(args=[export.pk]).get()  # a redelivery: nothing to do, no error
    assert services.export_run(export_id=export.pk) is None
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE
    files = [f for _d, _s, names in os.walk(settings.MEDIA_ROOT) for f in names]
    assert files == [os.path.basename(export.file.name)]


def test_export_left_running_by_a_dead_worker_is_taken_again(supervisor, cases, settings):
    start = timezone.now()
    export = services.export_request(kind=ExportKind.CASES, user=supervisor, filters={})
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, started_at=start, heartbeat_at=start
    )
    assert services.export_run(export_id=export.pk) is None  # still running elsewhere
    # its worker stopped beating: minutes later, not after the task time limit
    later = start + datetime.timedelta(seconds=settings.EXPORT_STALE_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        export = services.export_run(export_id=export.pk)
    assert export.status == ExportStatus.DONE
    assert export.rows_done == 4


# --- language ----------------------------------------------------------------------------


def test_column_titles_follow_the_requesters_language(supervisor, cases):
    with translation.override("zh-hans"):
        export = services.export_request(kind=ExportKind.CASES, user=supervisor, filters={})
    assert export.filters["language"] == "zh-hans"
    header, _rows = rows_by_number(services.export_run(export_id=export.pk))
    assert header[:2] == ["工单编号", "受理时间"]


# --- the background path -----------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_export_runs_in_a_real_worker(live_worker, client, supervisor, department):
    for _ in range(2):
        intake(department=department)
    client.force_login(supervisor)
    export = request_export(client, "state=received")
    assert wait_until(
        lambda: Export.objects.get(pk=export.pk).status in {ExportStatus.DONE, "failed"}
    )
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE, export.error
    assert export.rows_done == export.total_rows == 2
    _header, rows = rows_by_number(export)
    assert set(rows) == set(Case.objects.values_list("number", flat=True))


def test_export_run_queries_do_not_grow_with_rows(
    supervisor, desk, cases, django_assert_max_num_queries
):
    first = services.export_request(kind=ExportKind.CASES, user=supervisor, filters={})
    with django_assert_max_num_queries(20) as few:
        services.export_run(export_id=first.pk)
    for _ in range(6):
        intake(department=desk)
    again = services.export_request(kind=ExportKind.CASES, user=supervisor, filters={})
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert services.export_run(export_id=again.pk).rows_done == 10


def test_io_error_puts_the_export_back_in_the_queue_while_retries_remain(
    supervisor, cases, settings, tmp_path
):
    export = services.export_request(kind=ExportKind.CASES, user=supervisor, filters={})
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.MEDIA_ROOT = blocker / "media"  # no folder can be made there: an OSError

    with pytest.raises(OSError):
        services.export_run(export_id=export.pk, retryable=True)
    export.refresh_from_db()
    assert export.status == ExportStatus.QUEUED  # the task's retry claims it again
    assert export.error

    with pytest.raises(OSError):
        services.export_run(export_id=export.pk, retryable=False)  # the last attempt
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert export.finished_at is not None
