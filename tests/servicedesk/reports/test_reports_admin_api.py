"""Reports, alerts and the risk register in the admin and the API, end to end through the
test client: who sees what, who may download a workbook (managers only), generating a report
for a period, acknowledging and closing alerts, field errors, and bounded query counts."""

import datetime

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from servicedesk.reports.models import Alert, AlertStatus, Report, Risk

from .alert_factories import AlertRuleFactory, ReportFactory, at

REPORTS = reverse("admin:reports_report_changelist")
GENERATE = reverse("admin:reports_report_generate")
ALERTS = reverse("admin:reports_alert_changelist")
RISKS = reverse("admin:reports_risk_changelist")
RISK_ADD = reverse("admin:reports_risk_add")


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path / "media"


def logged_in(client, user):
    client.force_login(user)
    return client


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def download_url(report):
    return reverse("admin:reports_report_download", args=[report.pk])


def make_alert(rule=None, **fields):
    return Alert.objects.create(
        rule=rule or AlertRuleFactory(name="满意率低于目标", indicator="satisfaction_below"),
        message=fields.pop("message", "Satisfaction rate 60% over the last 30 days."),
        figures=fields.pop("figures", {"answers": 25, "rate_percent": 60, "threshold": 90}),
        **fields,
    )


# --- reports in the admin -------------------------------------------------------------------


def test_the_report_list_shows_period_author_size_and_download_to_managers(client, manager):
    ReportFactory()  # by the scheduler
    ReportFactory(
        kind="period", period_start=datetime.date(2026, 11, 1),
        period_end=datetime.date(2026, 11, 15), generated_by=manager, size=2 * 1024 * 1024,
    )  # fmt: skip
    response = logged_in(client, manager).get(REPORTS)
    assert response.status_code == 200
    page = response.content.decode()
    assert "scheduler" in page and str(manager) in page
    assert "2.0\xa0MB" in page
    assert page.count('href="/admin/reports/report/') >= 2
    assert "download/" in page
    assert GENERATE in page


def test_supervisors_see_the_list_but_cannot_download(client, supervisor):
    report = ReportFactory()
    client = logged_in(client, supervisor)
    response = client.get(REPORTS)
    assert response.status_code == 200
    assert download_url(report) not in response.content.decode()
    assert GENERATE not in response.content.decode()
    assert client.get(download_url(report)).status_code == 403
    assert client.get(GENERATE).status_code == 403
    assert client.get(reverse("admin:reports_report_change", args=[report.pk])).status_code == 200


def test_agents_see_no_reports(client, agent):
    report = ReportFactory()
    client = logged_in(client, agent)
    assert client.get(REPORTS).status_code == 403
    assert client.get(download_url(report)).status_code == 403


def test_managers_download_the_workbook(client, manager):
    report = ReportFactory()
    response = logged_in(client, manager).get(download_url(report))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"PK\x03\x04 workbook bytes"
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".xlsx" in response["Content-Disposition"]
    page = client.get(reverse("admin:reports_report_change", args=[report.pk]))
    assert page.status_code == 200 and "案件清单" in page.content.decode()


def test_generate_a_report_for_a_period(client, manager):
    client = logged_in(client, manager)
    assert client.get(GENERATE).status_code == 200

    with time_machine.travel(at(2026, 12, 2, 9)):
        response = client.post(GENERATE, {"start": "2026-11-03", "end": "2026-11-09"})
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_report_change", args=[report.pk])
    assert (report.kind, report.generated_by, report.language) == ("period", manager, "en")
    assert (report.period_start, report.period_end) == (
        datetime.date(2026, 11, 3),
        datetime.date(2026, 11, 9),
    )
    downloaded = client.get(download_url(report))
    path = report.file.path
    assert downloaded.status_code == 200
    assert openpyxl.load_workbook(path, read_only=True).sheetnames


def test_a_whole_month_is_the_monthly_report_kept_once_unless_generated_again(client, manager):
    client = logged_in(client, manager)
    month = {"start": "2026-11-01", "end": "2026-11-30"}
    with time_machine.travel(at(2026, 12, 2, 9)):
        client.post(GENERATE, month)
    with time_machine.travel(at(2026, 12, 2, 10)):
        response = client.post(GENERATE, month, follow=True)
    assert Report.objects.count() == 1
    assert Report.objects.get().kind == "monthly"
    assert "exists already" in response.content.decode()

    with time_machine.travel(at(2026, 12, 2, 11)):
        client.post(GENERATE, {**month, "force": "on"})
    assert Report.objects.count() == 2
    assert Report.objects.filter(is_current=True).count() == 1


def test_generate_refuses_a_bad_period_field_by_field(client, manager):
    client = logged_in(client, manager)
    with time_machine.travel(at(2026, 12, 2, 9)):
        backwards = client.post(GENERATE, {"start": "2026-11-09", "end": "2026-11-03"})
        future = client.post(GENERATE, {"start": "2026-11-09", "end": "2026-12-31"})
        missing = client.post(GENERATE, {"start": "", "end": "2026-11-03"})
    assert backwards.status_code == 200
    assert backwards.context["form"].errors["end"] == [
        "The end date cannot be before the start date."
    ]
    assert future.context["form"].errors["end"] == ["The period cannot end in the future."]
    assert "start" in missing.context["form"].errors
    assert not Report.objects.exists()


# --- alerts in the admin ------------------------------------------------------------------


def test_alert_list_and_page_show_the_figures_and_back_to_normal(client, manager):
    open_alert = make_alert()
    make_alert(
        rule=AlertRuleFactory(indicator="category_rise"),
        subject="logistics",
        message="Complaints in category Logistics: 5 in the last 7 days.",
        cleared_at=at(2026, 11, 16, 10),
    )
    client = logged_in(client, manager)
    page = client.get(ALERTS).content.decode()
    assert "Logistics" in page and "back to normal" in page

    only_open = client.get(ALERTS, {"status__exact": "open", "normal": "no"})
    assert list(only_open.context["cl"].result_list) == [open_alert]

    change = client.get(reverse("admin:reports_alert_change", args=[open_alert.pk]))
    assert change.status_code == 200
    text = change.content.decode()
    assert "<th>satisfaction rate (%)</th><td>60</td>" in text
    assert "<th>answers</th><td>25</td>" in text
    assert reverse("admin:reports_alert_acknowledge", args=[open_alert.pk]) in text
    assert reverse("admin:reports_alert_close", args=[open_alert.pk]) in text
    assert 'name="_save"' not in text  # nothing to edit


def test_acknowledge_and_close_with_a_note_through_the_admin(client, manager):
    alert = make_alert()
    client = logged_in(client, manager)
    acknowledge = reverse("admin:reports_alert_acknowledge", args=[alert.pk])
    close = reverse("admin:reports_alert_close", args=[alert.pk])

    assert client.get(acknowledge).status_code == 405
    assert client.post(acknowledge).status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == manager

    assert client.get(close).status_code == 200
    refused = client.post(close, {"note": "  "})
    assert refused.status_code == 200
    assert refused.context["form"].errors["note"] == ["Say what was done about it before closing."]
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED

    assert client.post(close, {"note": "已与物流商沟通，恢复正常。"}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED and alert.note == "已与物流商沟通，恢复正常。"
    page = client.get(reverse("admin:reports_alert_change", args=[alert.pk])).content.decode()
    assert acknowledge not in page and close not in page


def test_acknowledge_several_from_the_list(client, manager):
    alerts = [make_alert(rule=AlertRuleFactory()) for _ in range(3)]
    response = logged_in(client, manager).post(
        ALERTS,
        {"action": "acknowledge_selected", "_selected_action": [a.pk for a in alerts[:2]]},
    )
    assert response.status_code == 302
    assert sorted(Alert.objects.values_list("status", flat=True)) == [
        "acknowledged",
        "acknowledged",
        "open",
    ]


def test_supervisors_see_alerts_but_do_not_handle_them(client, supervisor):
    alert = make_alert()
    client = logged_in(client, supervisor)
    assert client.get(ALERTS).status_code == 200
    page = client.get(reverse("admin:reports_alert_change", args=[alert.pk])).content.decode()
    assert reverse("admin:reports_alert_close", args=[alert.pk]) not in page
    assert (
        client.post(reverse("admin:reports_alert_acknowledge", args=[alert.pk])).status_code == 403
    )
    assert (
        client.post(
            reverse("admin:reports_alert_close", args=[alert.pk]), {"note": "x"}
        ).status_code
        == 403
    )
    assert Alert.objects.get().status == AlertStatus.OPEN


def test_alert_rules_are_edited_in_the_admin(client, manager):
    rule = AlertRuleFactory(name="首次响应", threshold=24)
    client = logged_in(client, manager)
    assert client.get(reverse("admin:reports_alertrule_changelist")).status_code == 200
    url = reverse("admin:reports_alertrule_change", args=[rule.pk])
    response = client.post(
        url,
        {"name": "首次响应", "indicator": "first_response_median", "threshold": "12",
         "window_days": "0", "min_count": "5", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "window_days" in response.context["adminform"].form.errors
    response = client.post(
        url,
        {"name": "首次响应", "indicator": "first_response_median", "threshold": "12",
         "window_days": "3", "min_count": "5", "recipients": [manager.pk], "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.threshold, rule.window_days, list(rule.recipients.all())) == (12, 3, [manager])


# --- the risk register ----------------------------------------------------------------------

RISK = {
    "title": "物流旺季延误",
    "cause": "双十一期间快递量激增",
    "consequence": "投诉上升、满意率下降",
    "likelihood": "4",
    "impact": "4",
    "mitigation": "提前与第二家物流商签约",
    "status": "open",
    "review_on": "2026-12-01",
}


def test_a_risk_with_an_invalid_likelihood_gets_a_field_error(client, manager):
    client = logged_in(client, manager)
    assert client.get(RISK_ADD).status_code == 200
    response = client.post(RISK_ADD, {**RISK, "likelihood": "6", "owner": manager.pk})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["likelihood"]
    assert errors["likelihood"] == ["Ensure this value is less than or equal to 5."]
    assert not Risk.objects.exists()


def test_the_register_lists_risks_by_score_with_a_colour(client, manager):
    client = logged_in(client, manager)
    assert client.post(RISK_ADD, {**RISK, "owner": manager.pk}).status_code == 302
    Risk.objects.create(
        **{**RISK, "title": "系统宕机", "likelihood": 1, "impact": 5}, owner=manager
    )
    with time_machine.travel(at(2026, 12, 2, 9)):
        response = client.get(RISKS, {"o": "-2"})
    assert response.status_code == 200
    assert [r.title for r in response.context["cl"].result_list] == ["物流旺季延误", "系统宕机"]
    page = response.content.decode()
    assert "16 high" in page and "5 medium" in page and "Review due" in page
    assert client.get(RISKS, {"review": "due"}).status_code == 200


# --- query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 12])
def test_admin_lists_cost_the_same_whatever_the_rows(
    client, manager, django_assert_max_num_queries, count
):
    for i in range(count):
        ReportFactory(period_start=datetime.date(2020, 1, 1) + datetime.timedelta(days=40 * i),
                      generated_by=manager if i % 2 else None)  # fmt: skip
        make_alert(rule=AlertRuleFactory(), acknowledged_by=manager, status="acknowledged")
        Risk.objects.create(**{**RISK, "likelihood": 1 + i % 5}, owner=manager)
    client = logged_in(client, manager)
    for url in (REPORTS, ALERTS, RISKS, reverse("admin:reports_alertrule_changelist")):
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200


# --- the API ------------------------------------------------------------------------------


def test_api_lists_reports_with_a_download_link_for_managers(manager, supervisor):
    report = ReportFactory(generated_by=manager)
    answer = api(manager).get("/api/v1/reports/")
    assert answer.status_code == 200
    row = answer.json()["results"][0]
    assert row == {
        "id": report.pk,
        "kind": "monthly",
        "period_start": "2026-10-01",
        "period_end": "2026-10-31",
        "language": "zh-hans",
        "generated_at": row["generated_at"],
        "generated_by": {"id": manager.pk, "username": "manager", "name": "manager"},
        "is_current": True,
        "size": 22,
        "row_counts": {"概览": 12, "案件清单": 340},
        "download_url": f"http://testserver/api/v1/reports/{report.pk}/download/",
    }
    assert api(supervisor).get("/api/v1/reports/").json()["results"][0]["download_url"] is None


def test_api_download_is_for_managers_only(manager, supervisor, agent):
    report = ReportFactory()
    url = f"/api/v1/reports/{report.pk}/download/"
    answer = api(manager).get(url)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(answer.streaming_content) == b"PK\x03\x04 workbook bytes"
    assert api(supervisor).get(url).status_code == 403
    assert api(agent).get(url).status_code == 403
    assert api(agent).get("/api/v1/reports/").status_code == 403
    assert APIClient().get("/api/v1/reports/").status_code in (401, 403)
    assert api(manager).get("/api/v1/reports/999999/download/").status_code == 404


def test_api_lists_alerts_filtered_by_status(manager, supervisor, agent):
    rule = AlertRuleFactory(name="某类投诉周环比上升", indicator="category_rise")
    rising = make_alert(rule=rule, subject="logistics", figures={"current": 5, "previous": 2})
    closed = make_alert(
        rule=AlertRuleFactory(), status="closed", closed_by=manager,
        closed_at=at(2026, 11, 16, 12), note="已处理",
    )  # fmt: skip
    answer = api(supervisor).get("/api/v1/alerts/", {"status": "open"})
    assert answer.status_code == 200
    [row] = answer.json()["results"]
    assert row["id"] == rising.pk
    assert row["rule"]["name"] == "某类投诉周环比上升"
    assert row["rule"]["indicator"] == "category_rise"
    assert (row["subject"], row["subject_display"]) == ("logistics", "Logistics")
    assert row["figures"] == {"current": 5, "previous": 2}
    assert row["status"] == "open" and row["cleared_at"] is None
    assert row["message"] and row["raised_at"]
    [row] = api(supervisor).get("/api/v1/alerts/", {"status": "closed"}).json()["results"]
    assert row["id"] == closed.pk and row["closed_by"]["username"] == "manager"
    assert row["note"] == "已处理"
    assert len(api(manager).get("/api/v1/alerts/").json()["results"]) == 2
    assert api(agent).get("/api/v1/alerts/").status_code == 403
    assert api(manager).get("/api/v1/alerts/", {"status": "nonsense"}).status_code == 400


@pytest.mark.parametrize("count", [1, 15])
def test_api_lists_cost_the_same_whatever_the_rows(manager, django_assert_max_num_queries, count):
    for i in range(count):
        ReportFactory(period_start=datetime.date(2020, 1, 1) + datetime.timedelta(days=40 * i),
                      generated_by=manager)  # fmt: skip
        make_alert(rule=AlertRuleFactory(), acknowledged_by=manager, closed_by=manager)
    client = api(manager)
    for url in ("/api/v1/reports/", "/api/v1/alerts/"):
        with django_assert_max_num_queries(6):
            answer = client.get(url)
        assert len(answer.json()["results"]) == count


def test_the_schema_documents_reports_and_alerts(manager):
    schema = api(manager).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/reports/", "/api/v1/reports/{id}/download/", "/api/v1/alerts/"} <= set(paths)


def test_rows_per_sheet_follow_the_workbook_order(client, manager):
    # Stored in any order (PostgreSQL's jsonb keeps none); shown in the workbook's order.
    report = ReportFactory(
        language="en", row_counts={"Case list": 88, "By channel": 9, "Summary": 14}
    )
    page = logged_in(client, manager).get(reverse("admin:reports_report_change", args=[report.pk]))
    html = page.content.decode()
    table = html[html.index("<table><tbody><tr><th>") :]
    table = table[: table.index("</table>")]
    assert [th.split("</th>")[0] for th in table.split("<th>")[1:]] == [
        "Summary",
        "By channel",
        "Case list",
    ]
