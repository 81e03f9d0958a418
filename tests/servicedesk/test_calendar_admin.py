"""The working-day calendar in the admin: importing a year, correcting days, the warning to
load a missing year, and the deadline engine seeing an import at once."""

import copy
import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from servicedesk.calendar import services
from servicedesk.calendar.models import CalendarDay, CalendarYear
from servicedesk.staff import roles
from servicedesk.staff.models import Notification

SH = ZoneInfo("Asia/Shanghai")
IMPORT = reverse("admin:workcalendar_calendaryear_import")
YEARS = reverse("admin:workcalendar_calendaryear_changelist")
SCHEDULE_2027 = """\
# 国务院办公厅关于2027年部分节假日安排的通知（测试数据）
2027-01-01 holiday 元旦
2027-02-06~2027-02-12\t休\t春节
2027-02-13, 班, 春节调休
"""


@pytest.fixture(autouse=True)
def _english_and_fresh_cache(settings):
    # Assertions read the English messages; translations may change the Chinese ones.
    settings.LANGUAGE_CODE = "en"
    services.clear_caches()
    yield
    services.clear_caches()


@pytest.fixture
def banner(settings):
    """The context processor the admin base template's banner reads."""
    processor = "servicedesk.calendar.context_processors.calendar_warning"
    templates = copy.deepcopy(settings.TEMPLATES)
    processors = templates[0]["OPTIONS"]["context_processors"]
    if processor not in processors:
        processors.append(processor)
    settings.TEMPLATES = templates


@pytest.fixture
def no_2027(db):
    # Should a later chinese-calendar cover 2027, keep it the unpublished year here.
    CalendarYear.objects.filter(year__gte=2027).delete()


@pytest.fixture
def administrator(make_user, no_2027):
    return make_user("admin1", role=roles.ADMINISTRATOR)


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


# --- Import ----------------------------------------------------------------------------


def test_import_a_year_from_a_pasted_list(admin_client, administrator):
    assert 2027 not in services.load_calendar().known_years  # cached now

    response = admin_client.post(
        IMPORT, {"year": "2027", "days": SCHEDULE_2027, "notes": "国办发明电"}
    )

    year = CalendarYear.objects.get(year=2027)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:workcalendar_calendaryear_change", args=[year.pk])
    assert year.source == "manual"
    assert year.loaded_by == administrator
    assert year.notes == "国办发明电"
    days = list(year.days.values_list("date", "kind", "name"))
    assert len(days) == 9  # 1 + 7 days off, 1 make-up working day
    assert (datetime.date(2027, 2, 13), "workday", "春节调休") in days
    assert (datetime.date(2027, 2, 9), "holiday", "春节") in days
    page = admin_client.get(response["Location"])
    assert "Loaded 2027: 8 days off and 1 make-up working days." in page.text
    assert "春节调休" in page.text

    # The deadline engine sees it at once, not after the cache expires.
    cal = services.load_calendar()
    assert 2027 in cal.known_years
    assert not cal.is_workday(datetime.date(2027, 2, 8))
    assert cal.is_workday(datetime.date(2027, 2, 13))


def test_bad_lines_are_named_and_nothing_is_saved(admin_client):
    text = "2027-01-01 holiday 元旦\n2027-13-01 holiday 坏日期\n\n2027-01-02 rest\n2027-01-01 休\n"

    response = admin_client.post(IMPORT, {"year": "2027", "days": text})

    assert response.status_code == 200
    errors = response.context["form"].errors["days"]
    assert any(e.startswith("Line 2:") and "2027-13-01" in e for e in errors)
    assert any(e.startswith("Line 4:") and "rest" in e for e in errors)
    assert any(e.startswith("Line 5:") and "line 1" in e for e in errors)
    assert not any(e.startswith("Line 1:") for e in errors)
    assert "Line 2:" in response.text
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_days_outside_the_year_or_a_weekday_make_up_day_are_refused(admin_client):
    text = "2027-01-01 holiday 元旦\n2028-01-01 holiday 元旦\n2027-01-04 workday 周一\n"

    response = admin_client.post(IMPORT, {"year": "2027", "days": text})

    assert response.status_code == 200
    errors = response.context["form"].errors["days"]
    assert "2028-01-01 is not in 2027." in errors
    assert any("2027-01-04 is a Monday–Friday" in e for e in errors)
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_replacing_a_loaded_year_needs_the_box_ticked(admin_client):
    response = admin_client.post(IMPORT, {"year": "2026", "days": "2026-01-01 holiday 元旦"})
    assert response.status_code == 200
    assert "replace" in response.context["form"].errors
    assert CalendarDay.objects.filter(date__year=2026).count() > 30

    response = admin_client.post(
        IMPORT, {"year": "2026", "days": "2026-01-01 holiday 元旦", "replace": "on"}
    )
    assert response.status_code == 302
    assert list(CalendarDay.objects.filter(date__year=2026).values_list("date", flat=True)) == [
        datetime.date(2026, 1, 1)
    ]
    assert CalendarYear.objects.get(year=2026).source == "manual"


def test_edit_a_loaded_year_as_a_list(admin_client):
    response = admin_client.get(IMPORT, {"year": "2026"})
    assert response.status_code == 200
    assert "2026-02-15 holiday 春节" in response.text
    assert "2026-10-10 workday 国庆节调休" in response.text


def test_the_add_button_leads_to_the_import(admin_client):
    response = admin_client.get(reverse("admin:workcalendar_calendaryear_add"))
    assert response.status_code == 302
    assert response["Location"] == IMPORT


def test_only_those_who_may_change_the_calendar_import(client, agent, no_2027):
    client.force_login(agent)
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, {"year": "2027", "days": SCHEDULE_2027}).status_code == 403
    assert not CalendarYear.objects.filter(year=2027).exists()


# --- Lists and the day editor -----------------------------------------------------------


def test_year_list_shows_counts_in_constant_queries(admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(12) as few:
        response = admin_client.get(YEARS)
    assert response.status_code == 200
    row = next(r for r in response.context["cl"].result_list if r.year == 2026)
    assert (row.holiday_count, row.workday_count) == (33, 6)

    for year in range(2030, 2040):
        services.calendar_year_load(
            year=year, days=[(datetime.date(year, 1, 1), "holiday", "元旦")], user=None
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(YEARS).status_code == 200


def test_day_list_filters_and_searches(admin_client):
    url = reverse("admin:workcalendar_calendarday_changelist")
    response = admin_client.get(url, {"kind": "workday", "q": "国庆节"})
    assert response.status_code == 200
    dates = {d.date for d in response.context["cl"].result_list}
    assert datetime.date(2026, 10, 10) in dates
    assert all(d.kind == "workday" for d in response.context["cl"].result_list)


def test_a_corrected_day_is_checked_and_reaches_the_engine(admin_client):
    year = CalendarYear.objects.get(year=2026)
    assert services.load_calendar().is_workday(datetime.date(2026, 12, 31))
    add = reverse("admin:workcalendar_calendarday_add")

    bad = admin_client.post(
        add, {"calendar_year": year.pk, "date": "2026-12-30", "kind": "workday", "name": "x"}
    )
    assert bad.status_code == 200
    assert "only a Saturday or Sunday" in bad.text

    ok = admin_client.post(
        add, {"calendar_year": year.pk, "date": "2026-12-31", "kind": "holiday", "name": "测试"}
    )
    assert ok.status_code == 302
    assert not services.load_calendar().is_workday(datetime.date(2026, 12, 31))


def test_the_year_page_lists_its_days(admin_client):
    year = CalendarYear.objects.get(year=2026)
    response = admin_client.get(reverse("admin:workcalendar_calendaryear_change", args=[year.pk]))
    assert response.status_code == 200
    assert "2026-02-15" in response.text
    assert "Edit as a list" in response.text


# --- Missing-year warning ---------------------------------------------------------------


def test_missing_year_warning_notifies_administrators_once(
    administrator, make_user, agent, django_assert_num_queries
):
    root = make_user("root", is_superuser=True)
    make_user("gone", role=roles.ADMINISTRATOR, is_active=False)

    created = services.calendar_missing_year_warn(years=[2027])

    notes = Notification.objects.filter(event_key="calendar:missing-year:2027")
    assert {n.recipient for n in notes} == {administrator, root}
    assert len(created) == 2
    assert "2027" in notes[0].subject
    assert notes[0].link == f"{IMPORT}?year=2027"

    # The deadline engine calls this for every provisional deadline: free once sent.
    with django_assert_num_queries(0):
        assert services.calendar_missing_year_warn(years=[2027, 2027]) == []
    # A fresh process checks the database once and sends nothing again.
    services.clear_caches()
    assert services.calendar_missing_year_warn(years={2027}) == []
    assert notes.count() == 2


def test_missing_year_warning_in_the_site_language(administrator, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    services.calendar_missing_year_warn(years=[2027])
    # The subject is stored in the site language even when triggered from a task.
    note = Notification.objects.get(recipient=administrator)
    assert "2027" in note.subject


def test_banner_on_the_admin_index_until_the_year_is_loaded(admin_client, banner):
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, tzinfo=SH), tick=False):
        response = admin_client.get(reverse("admin:index"))
        assert response.context["calendar_missing_years"] == [2027]
        assert response.context["calendar_import_url"] == f"{IMPORT}?year=2027"
        assert admin_client.get(YEARS).context["calendar_missing_years"] == [2027]

        services.calendar_year_load(
            year=2027, days=[(datetime.date(2027, 1, 1), "holiday", "元旦")], user=None
        )
        response = admin_client.get(reverse("admin:index"))
        assert "calendar_missing_years" not in response.context


def test_no_banner_for_next_year_before_it_is_published(admin_client, banner):
    with time_machine.travel(datetime.datetime(2026, 6, 1, 10, tzinfo=SH), tick=False):
        response = admin_client.get(reverse("admin:index"))
    assert "calendar_missing_years" not in response.context


def test_no_banner_for_staff_who_cannot_load_a_year(client, agent, no_2027, banner):
    client.force_login(agent)
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, tzinfo=SH), tick=False):
        response = client.get(reverse("admin:index"))
    assert "calendar_missing_years" not in response.context


def test_banner_text():
    html = render_to_string(
        "workcalendar/missing_year_banner.html",
        {"calendar_missing_years": [2027], "calendar_import_url": "/x"},
    )
    assert "of 2027 are not in the working-day" in html
    assert 'href="/x"' in html
    assert render_to_string("workcalendar/missing_year_banner.html", {}).strip() == ""


# --- The simple list and the settings -----------------------------------------------------


def test_the_simple_list_accepts_chinese_words_tabs_commas_and_ranges():
    text = (
        "2027/1/1 休 元旦\n"
        "2027-02-06～2027-02-08\t放假\t春节\n"
        "2027-02-13，补班，春节 调休上班\n"
        "  # a comment\n"
        "2027-02-14 班\n"
    )
    days = services.parse_day_list(text)
    assert days == [
        (datetime.date(2027, 1, 1), "holiday", "元旦"),
        (datetime.date(2027, 2, 6), "holiday", "春节"),
        (datetime.date(2027, 2, 7), "holiday", "春节"),
        (datetime.date(2027, 2, 8), "holiday", "春节"),
        (datetime.date(2027, 2, 13), "workday", "春节 调休上班"),
        (datetime.date(2027, 2, 14), "workday", ""),
    ]


def test_the_simple_list_names_each_bad_line():
    with pytest.raises(ValidationError) as caught:
        services.parse_day_list("2027-01-01\n2027-01-01 调休\n2027-02-10~2027-02-01 休\n")
    messages = caught.value.messages
    assert [m.split(":")[0] for m in messages] == ["Line 1", "Line 2", "Line 3"]


def test_business_hours_are_checked_at_start_up(settings):
    from servicedesk.calendar.apps import check_business_hours

    assert check_business_hours() == []
    settings.BUSINESS_DAY_END = "08:00"
    assert [e.id for e in check_business_hours()] == ["workcalendar.E001"]
    settings.BUSINESS_DAY_END = "6pm"
    assert "BUSINESS_DAY_END" in check_business_hours()[0].msg


def test_an_emptied_calendar_is_seeded_again_from_the_package(db):
    # A flushed database (a transactional test) loses the migration's rows; post_migrate,
    # which flush sends again, puts the package's years back.
    CalendarYear.objects.all().delete()
    services.seed_empty_calendar(using="default")
    years = set(CalendarYear.objects.values_list("year", flat=True))
    assert set(range(2004, 2027)) <= years
    assert CalendarYear.objects.get(year=2026).source == "package"
    day = CalendarDay.objects.get(date=datetime.date(2026, 10, 10))
    assert (day.kind, day.name) == ("workday", "国庆节调休")
    assert CalendarDay.objects.get(date=datetime.date(2026, 2, 17)).name == "春节"

    # Not over an administrator's work: a calendar with any year is left alone.
    CalendarYear.objects.filter(year=2026).delete()
    services.seed_empty_calendar(using="default")
    assert not CalendarYear.objects.filter(year=2026).exists()
