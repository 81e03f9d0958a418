"""PIPL: anonymising a customer on request (admin) and after the retention period (the nightly
task, bulk and idempotent), the subject-access export, and the log of who saw unmasked
personal data — readable by managers, changeable by nobody."""

import datetime
import io
import json
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from complaints import privacy, services
from complaints.models import Case, CaseEvent, Customer, PersonalDataLog, PrivacyAction
from servicedesk.staff import roles

from .helpers import intake

PHONE = "13812345678"


@pytest.fixture
def handler(make_user, department):
    return make_user("handler_p", role=roles.HANDLER, departments=[department])


@pytest.fixture
def case(agent, department):
    photo = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")
    return intake(
        customer={
            "name": "张三丰",
            "phone": PHONE,
            "email": "zsf@example.com",
            "member_no": "M-778899",
        },
        customer_words=f"我是张三丰，电话 {PHONE}，快递把屏幕压碎了",
        attachments=[photo],
        user=agent,
        department=department,
    ).case


def client_for(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_a_manager_anonymises_a_customer_and_cases_and_timeline_stay(
    case, manager, django_capture_on_commit_callbacks
):
    customer = case.customer
    file_name = case.attachments.get().file.name
    assert default_storage.exists(file_name)
    events_before = list(CaseEvent.objects.filter(case=case).values_list("pk", "message"))
    url = f"/admin/complaints/customer/{customer.pk}/anonymise/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(manager).post(
            url, {"reason": "客户 11 月 30 日来电要求删除", "confirm": "on"}
        )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.anonymized_at is not None
    assert customer.name.startswith("已匿名客户")
    assert (customer.phone, customer.email, customer.member_no) == ("", "", "")
    case = Case.objects.get(pk=case.pk)
    assert case.state and case.number  # the case stays
    assert PHONE not in case.customer_words and "张三丰" not in case.customer_words
    assert "屏幕压碎" in case.customer_words
    assert case.attachments.count() == 0 and not default_storage.exists(file_name)
    # The timeline is only appended to: earlier entries unchanged, one entry says what happened.
    events = list(CaseEvent.objects.filter(case=case).values_list("pk", "message"))
    assert events[: len(events_before)] == events_before
    assert "anonymised" in events[-1][1]
    log = PersonalDataLog.objects.get(action=PrivacyAction.ANONYMISED)
    assert log.user == manager and log.customer == customer and "来电要求删除" in log.detail
    # A second time changes nothing.
    privacy.customer_anonymise(customer=customer, user=manager, reason="again")
    assert PersonalDataLog.objects.filter(customer=customer, action="anonymised").count() == 1


def test_anonymising_needs_a_reason_and_the_manager_permission(case, agent, manager):
    url = f"/admin/complaints/customer/{case.customer.pk}/anonymise/"
    assert client_for(agent).post(url, {"reason": "x", "confirm": "on"}).status_code == 403
    response = client_for(manager).post(url, {"reason": " ", "confirm": "on"})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    response = client_for(manager).post(url, {"reason": "客户要求"})  # not confirmed
    assert response.context["form"].errors["confirm"]
    assert Customer.objects.get(pk=case.customer.pk).anonymized_at is None


def test_the_retention_task_anonymises_customers_whose_cases_ended_long_ago(
    agent, department, settings
):
    settings.PIPL_RETENTION_DAYS = 30
    old = intake(customer={"name": "李四", "phone": "13900000001"}, department=department).case
    services.case_transition(case=old, name="cancel", user=agent, reason="客户撤回")
    still_open = intake(customer={"name": "王五", "phone": "13900000002"}).case
    recent = intake(customer={"name": "赵六", "phone": "13900000003"}, department=department).case
    services.case_transition(case=recent, name="cancel", user=agent, reason="客户撤回")
    long_ago = timezone.now() - datetime.timedelta(days=31)
    Case.objects.filter(pk__in=[old.pk, still_open.pk]).update(updated_at=long_ago)

    assert privacy.retention_anonymise() == 1
    assert privacy.retention_anonymise() == 0  # idempotent
    names = dict(Customer.objects.values_list("phone_normalized", "anonymized_at"))
    assert Customer.objects.get(pk=old.customer_id).anonymized_at is not None
    assert Customer.objects.get(pk=still_open.customer_id).anonymized_at is None
    assert Customer.objects.get(pk=recent.customer_id).anonymized_at is None
    assert len(names) >= 2
    log = PersonalDataLog.objects.get(action=PrivacyAction.RETENTION)
    assert log.user is None and log.customer_id == old.customer_id


def test_subject_access_export_is_a_zip_with_json_and_attachments(case, manager, supervisor):
    url = f"/admin/complaints/customer/{case.customer.pk}/export/"
    assert client_for(supervisor).post(url).status_code == 403
    response = client_for(manager).post(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("data.json"))
    assert data["customer"][0]["fields"]["phone"] == PHONE
    assert [c["fields"]["number"] for c in data["complaints.Case"]] == [case.number]
    assert data["complaints.CaseEvent"]  # the timeline too
    files = [n for n in archive.namelist() if n.startswith("attachments/")]
    assert len(files) == 1 and archive.read(files[0]) == b"\xff\xd8\xff fake jpeg"
    assert PersonalDataLog.objects.filter(
        action=PrivacyAction.SUBJECT_ACCESS, user=manager, customer=case.customer
    ).exists()


def test_unmasked_views_are_logged_and_only_managers_read_the_log(
    case, agent, handler, manager, supervisor
):
    client_for(agent).get(f"/admin/complaints/case/{case.pk}/change/")
    client_for(agent).get(f"/admin/complaints/customer/{case.customer.pk}/change/")
    client_for(handler).get(f"/admin/complaints/case/{case.pk}/change/")  # sees masked data
    views = PersonalDataLog.objects.filter(action=PrivacyAction.VIEWED)
    assert sorted(views.values_list("user__username", "where")) == [
        ("agent", "case page"),
        ("agent", "customer page"),
    ]
    assert client_for(manager).get("/admin/complaints/personaldatalog/").status_code == 200
    assert client_for(supervisor).get("/admin/complaints/personaldatalog/").status_code == 403
    log = views.first()
    change = client_for(manager).post(f"/admin/complaints/personaldatalog/{log.pk}/change/", {})
    assert change.status_code == 403
    with pytest.raises(ValidationError):
        log.delete()
