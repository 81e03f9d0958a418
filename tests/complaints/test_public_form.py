"""The public web form (/submit/): a customer reaches us without logging in; the case goes
through the same intake as every channel. Also: the demo data covers every state and channel."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from complaints import views
from complaints.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseType,
    Channel,
    Customer,
    EventKind,
    ReturnRequest,
    State,
)

from .helpers import intake

SUBMIT = "/submit/"


@pytest.fixture(autouse=True)
def _clean_cache_and_media(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


def form_data(**overrides):
    data = {
        "name": "王芳",
        "phone": "13812345678",
        "email": "wangfang@example.com",
        "member_no": "",
        "preferred_contact": "phone",
        "type": "complaint",
        "category": "logistics",
        "subject": "快递五天了还没送到",
        "description": "我10月3日下的单，物流信息停在杭州转运中心已经五天没有更新了。",
        "expected_outcome": "尽快送达，或者给我退款",
        "order_no": "JD2026100312345",
        "product": "无线降噪耳机",
        "consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# The first bytes of each type (attachments are checked for them).
MAGIC = {".jpg": b"\xff\xd8\xff\xe0", ".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-1.4\n"}


def upload(name, size, content_type="image/jpeg"):
    head = MAGIC.get(name[name.rfind(".") :].lower(), b"")
    return SimpleUploadedFile(name, head + b"x" * (size - len(head)), content_type=content_type)


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- the page ------------------------------------------------------------------------------


def test_form_is_public_chinese_by_default_and_carries_csrf(client, db):
    response = client.get(SUBMIT)
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in page
    assert "csrfmiddlewaretoken" in page
    assert 'enctype="multipart/form-data"' in page
    for field in ["name", "phone", "email", "member_no", "subject", "description", "consent"]:
        assert f'name="{field}"' in page
    assert 'name="attachments"' in page and "multiple" in page
    assert 'id="return-fields"' in page
    # the switch to English, Japanese and Korean
    assert '/submit/?lang=en"' in page and "?lang=ja" in page and "?lang=ko" in page


# --- a good submission ------------------------------------------------------------------------


def test_valid_submission_creates_a_web_case_and_shows_its_number(client, db):
    response = client.post(SUBMIT, form_data())
    assert response.status_code == 302
    assert response["Location"].startswith("/submit/done/")

    case = Case.objects.get()
    assert case.channel == Channel.WEB
    assert case.state == State.RECEIVED
    assert case.subject == "快递五天了还没送到"
    assert case.customer_words == form_data()["description"]
    assert case.description == form_data()["description"]
    assert case.expected_outcome == "尽快送达，或者给我退款"
    assert case.order_no == "JD2026100312345"
    assert case.created_by is None
    assert case.contacts.get().channel == Channel.WEB
    assert case.customer.name == "王芳"
    assert case.customer.phone_normalized == "13812345678"

    done = client.get(response["Location"])
    assert done.status_code == 200
    assert case.number in done.content.decode()


def test_attachments_are_stored_as_evidence(client, db):
    files = [upload("破损照片.jpg", 300), upload("聊天记录.png", 200, "image/png")]
    response = client.post(SUBMIT, {**form_data(), "attachments": files})
    assert response.status_code == 302
    case = Case.objects.get()
    assert sorted(a.original_name for a in case.attachments.all()) == [
        "破损照片.jpg",
        "聊天记录.png",
    ]


def test_return_request_is_recorded_and_flagged_outside_the_window(client, db):
    old = (datetime.date.today() - datetime.timedelta(days=20)).isoformat()
    response = client.post(
        SUBMIT,
        form_data(
            type="return_exchange",
            category="product",
            subject="衣服尺码不合适想退货",
            purchase_date=old,
            return_reason="personal",
            unopened="on",
        ),
    )
    assert response.status_code == 302
    rr = ReturnRequest.objects.get()
    assert rr.case.type == CaseType.RETURN_EXCHANGE
    assert rr.purchase_date.isoformat() == old
    assert rr.reason == "personal" and rr.unopened
    assert rr.order_no == "JD2026100312345"
    assert rr.outside_window  # 20 days > 7 for a personal reason: flagged, not refused


# --- bad input: field errors, nothing saved ---------------------------------------------------


def assert_nothing_saved():
    assert not Case.objects.exists()
    assert not Customer.objects.exists()
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"description": ""}, "description"),
        ({"phone": "", "email": ""}, "phone"),
        ({"email": "not-an-address"}, "email"),
        ({"consent": None}, "consent"),
        ({"type": "spam"}, "type"),
        # checked by the intake service (Customer.clean), shown on the field all the same
        ({"phone": "12"}, "phone"),
        # the customer chose e-mail but gave none
        ({"preferred_contact": "email", "email": ""}, "email"),
    ],
)
def test_bad_input_shows_field_errors_and_saves_nothing(client, db, overrides, field):
    response = client.post(SUBMIT, form_data(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    page = response.content.decode()
    assert f'id="id_{field}_errors"' in page  # shown next to the field
    assert 'aria-invalid="true"' in page
    assert_nothing_saved()


def test_field_errors_are_chinese_by_default(client, db):
    response = client.post(SUBMIT, form_data(subject=""))
    assert (
        "必填项" in response.content.decode()
    )  # "This field is required." from Django's catalogue


@override_settings(ATTACHMENT_MAX_BYTES=1024)
def test_oversized_attachment_is_refused_on_its_field(client, db):
    response = client.post(SUBMIT, {**form_data(), "attachments": [upload("photo.jpg", 2048)]})
    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert any("photo.jpg" in e for e in errors)
    assert_nothing_saved()


def test_disallowed_file_type_is_refused(client, db):
    response = client.post(
        SUBMIT,
        {**form_data(), "attachments": [upload("invoice.exe", 100, "application/x-msdownload")]},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert any("invoice.exe" in e and ".exe" in e for e in errors)
    assert_nothing_saved()


@override_settings(PUBLIC_FORM_MAX_FILES=2)
def test_too_many_files_are_refused(client, db):
    files = [upload(f"p{i}.jpg", 10) for i in range(3)]
    response = client.post(SUBMIT, {**form_data(), "attachments": files})
    assert "attachments" in response.context["form"].errors
    assert_nothing_saved()


@override_settings(ATTACHMENT_MAX_BYTES=1024, PUBLIC_FORM_MAX_TOTAL_BYTES=1500)
def test_files_over_the_total_size_are_refused(client, db):
    files = [upload("a.jpg", 1000), upload("b.jpg", 1000)]  # each fine, together too large
    response = client.post(SUBMIT, {**form_data(), "attachments": files})
    assert "attachments" in response.context["form"].errors
    assert_nothing_saved()


def test_return_without_purchase_date_is_a_field_error(client, db):
    response = client.post(
        SUBMIT, form_data(type="return_exchange", category="product", return_reason="quality")
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "purchase_date" in form.errors
    assert "return_reason" not in form.errors
    assert_nothing_saved()


def test_return_fields_are_ignored_for_other_types(client, db):
    response = client.post(SUBMIT, form_data(purchase_date="", return_reason=""))
    assert response.status_code == 302
    assert not ReturnRequest.objects.exists()


def test_return_with_a_future_purchase_date_gets_the_services_error_on_the_field(client, db):
    future = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    response = client.post(
        SUBMIT,
        form_data(
            type="return_exchange",
            category="product",
            purchase_date=future,
            return_reason="quality",
        ),
    )
    assert response.status_code == 200
    assert "purchase_date" in response.context["form"].errors
    assert_nothing_saved()


# --- de-duplication -------------------------------------------------------------------------


def test_second_contact_through_the_web_joins_the_open_phone_case(client, db):
    phone_case = intake(
        customer={"name": "李强", "phone": "139 0011 2233"},
        subject="快递三天了还没到，物流一直不更新",
        category="logistics",
    ).case

    response = in_english(client).post(
        SUBMIT,
        form_data(
            name="李强",
            phone="13900112233",
            email="",
            subject="快递三天还没到 物流不更新",
        ),
    )
    assert response.status_code == 302
    assert Case.objects.count() == 1
    phone_case.refresh_from_db()
    assert [c.channel for c in phone_case.contacts.all()] == [Channel.PHONE, Channel.WEB]

    page = client.get(response["Location"]).content.decode()
    assert phone_case.number in page
    assert "added your message to it" in page


# --- rate limit --------------------------------------------------------------------------------


@override_settings(PUBLIC_FORM_RATE_LIMIT="2/h")
def test_rate_limit_answers_429_and_saves_nothing(client, db):
    for i in range(2):
        r = client.post(
            SUBMIT,
            form_data(phone=f"1380000000{i}", email="", subject=["发票开错了", "APP闪退"][i]),
        )
        assert r.status_code == 302
    response = client.post(SUBMIT, form_data(phone="13800000009", subject="第三个问题"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert '<html lang="zh-hans">' in response.content.decode()
    assert Case.objects.count() == 2
    assert not Customer.objects.filter(phone="13800000009").exists()
    # another address is not affected
    other = client.post(
        SUBMIT, form_data(phone="13800000009", subject="第三个问题"), REMOTE_ADDR="10.1.2.3"
    )
    assert other.status_code == 302


@override_settings(PUBLIC_FORM_RATE_LIMIT="1/h")
def test_forwarded_address_counts_only_behind_a_trusted_proxy(client, db):
    def post(n, forwarded):
        return client.post(
            SUBMIT,
            form_data(phone=f"1370000000{n}", email="", subject=f"问题{n}：APP无法登录"),
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    assert post(1, "203.0.113.1").status_code == 302
    # not trusted: a forged header does not buy a fresh allowance
    assert post(2, "203.0.113.2").status_code == 429
    with override_settings(TRUST_X_FORWARDED_FOR=True):
        assert post(3, "203.0.113.3, 10.0.0.1").status_code == 302
        assert post(4, "203.0.113.3").status_code == 429


def test_failed_submissions_do_not_use_up_the_allowance(client, db):
    with override_settings(PUBLIC_FORM_RATE_LIMIT="1/h"):
        assert client.post(SUBMIT, form_data(subject="")).status_code == 200
        assert client.post(SUBMIT, form_data(subject="")).status_code == 200
        assert client.post(SUBMIT, form_data()).status_code == 302


def test_rate_setting_formats():
    for rate, expected in [("10/h", (10, 3600)), ("30/minute", (30, 60)), ("5/day", (5, 86400))]:
        with override_settings(PUBLIC_FORM_RATE_LIMIT=rate):
            assert views.rate_limit() == expected


# --- CSRF and the confirmation token ---------------------------------------------------------


def test_csrf_is_enforced(db):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(SUBMIT, form_data()).status_code == 403
    assert not Case.objects.exists()

    browser.get(SUBMIT)
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    response = browser.post(SUBMIT, {**form_data(), "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_tampered_or_forged_confirmation_token_is_404(client, db):
    client.post(SUBMIT, form_data())
    number = Case.objects.get().number
    good = reverse(
        "complaints:submit_done", args=[signing.dumps({"n": number, "a": 0}, salt=views.TOKEN_SALT)]
    )
    assert client.get(good).status_code == 200

    token = good.split("/")[-2]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(f"/submit/done/{tampered}/").status_code == 404
    # signed with another salt (or key): not ours
    forged = signing.dumps({"n": number, "a": 0})
    assert client.get(f"/submit/done/{forged}/").status_code == 404
    assert client.get(f"/submit/done/{number}/").status_code == 404


def test_confirmation_link_expires_after_a_day(client, db):
    location = client.post(SUBMIT, form_data())["Location"]
    assert client.get(location).status_code == 200
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)):
        assert client.get(location).status_code == 404


# --- demo data ---------------------------------------------------------------------------------


def test_demo_data_has_cases_in_every_state_from_every_channel(db):
    from servicedesk import demo

    lines = []
    demo.seed(log=lines.append)

    states = set(Case.objects.values_list("state", flat=True))
    channels = set(Case.objects.values_list("channel", flat=True))
    assert states == set(State.values)
    assert channels == set(Channel.values)
    contact_channels = set(Case.objects.values_list("contacts__channel", flat=True))
    assert contact_channels == set(Channel.values)
    assert Case.objects.count() >= 250
    assert Customer.objects.count() >= 50
    assert Case.objects.exclude(urgency_reason="").exists()
    assert ReturnRequest.objects.filter(outside_window=True).exists()
    assert Case.objects.filter(state=State.CLOSED, feedback_score__isnull=False).exists()
    # repeat contacts absorbed into an open case from a second channel
    absorbed = Case.objects.filter(events__kind=EventKind.CONTACT).annotate(
        channels=Count("contacts__channel", distinct=True)
    )
    assert absorbed.filter(channels__gt=1).exists()
    # staff did the work, at the time it happened
    assert not CaseEvent.objects.filter(created_at__gt=timezone.now()).exists()
    assert CaseEvent.objects.filter(kind=EventKind.TRANSITION, author__isnull=False).exists()
    assert any("complaints" in line for line in lines)
