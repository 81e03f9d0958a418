"""Bad input never answers 500 and saves nothing: NUL bytes, dates at the ends of the
calendar, megabytes of text, files whose content is not what their name says. Each gets a
field error (in Chinese under zh-hans)."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from complaints.models import Attachment, Case, CaseEvent, ReturnRequest
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .test_api import CASES, body, client_for, new_case
from .test_public_form import SUBMIT, form_data

pytestmark = pytest.mark.django_db

# A real (1×1) PNG, JPEG and PDF head; an HTML page.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture(autouse=True)
def _clean(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def handler(make_user):
    tech = Department.objects.create(code="tech", name="技术部")
    return make_user("handler", role=roles.HANDLER, departments=[tech])


@pytest.fixture
def assigned_case(agent, handler):
    return new_case(1, user=agent, department=handler.departments.get(), assignee=handler)


# --- the API -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("next_contact_at", "9999-12-31T23:59:59+08:00"),
        ("expected_resolution_at", "9999-12-31T23:59:00Z"),
        ("next_contact_at", "0001-01-01T00:00:00+08:00"),
    ],
)
def test_dates_at_the_end_of_the_calendar_are_field_errors(assigned_case, handler, field, value):
    before = CaseEvent.objects.count()
    response = client_for(handler, "zh-hans").post(
        f"{CASES}{assigned_case.number}/events/",
        {"message": "已联系客户", field: value},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert CaseEvent.objects.count() == before


def test_a_4_mb_description_is_a_field_error_in_chinese(agent):
    response = client_for(agent, "zh-hans").post(
        CASES, body(description="长" * (4 * 1024 * 1024 // 3)), format="json"
    )
    assert response.status_code == 400
    message = response.json()["description"][0]
    assert "字" in message  # "请确保此字段不超过 … 个字符。"
    assert not Case.objects.exists()


def test_a_nul_byte_in_text_is_a_field_error(agent):
    response = client_for(agent, "zh-hans").post(
        CASES, body(subject="手机\x00屏幕碎了"), format="json"
    )
    assert response.status_code == 400
    assert "subject" in response.json()
    assert not Case.objects.exists()


def test_a_purchase_date_of_year_one_is_a_field_error(agent):
    response = client_for(agent, "zh-hans").post(
        CASES,
        body(
            type="return_exchange",
            return_request={"purchase_date": "0001-01-01", "reason": "quality", "unopened": True},
        ),
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "purchase_date" in str(response.json())
    assert not Case.objects.exists()


# --- the public form ---------------------------------------------------------------------


def test_the_form_refuses_a_year_one_purchase_date(client):
    response = client.post(
        SUBMIT,
        form_data(type="return_exchange", purchase_date="0001-01-01", return_reason="quality"),
    )
    assert response.status_code == 200
    assert "purchase_date" in response.context["form"].errors
    assert not ReturnRequest.objects.exists()


def test_the_form_refuses_megabytes_of_description_in_chinese(client):
    response = client.post(SUBMIT, form_data(description="长" * 100_000))
    assert response.status_code == 200
    assert "字" in response.context["form"].errors["description"][0]
    assert not Case.objects.exists()


def test_the_form_refuses_nul_bytes(client):
    response = client.post(SUBMIT, form_data(subject="快递\x00没到"))
    assert response.status_code == 200
    assert "subject" in response.context["form"].errors
    assert not Case.objects.exists()


# --- attachments: the content must be what the name and type say --------------------------


def upload(name, content, content_type):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("photo.png", HTML, "image/png"),
        ("photo.jpg", PNG, "image/jpeg"),
        ("invoice.pdf", HTML, "application/pdf"),
        ("photo.png", b"MZ\x90\x00" + b"\x00" * 64, "image/png"),
    ],
)
def test_a_file_whose_content_is_not_its_type_is_refused(client, name, content, content_type):
    response = client.post(
        SUBMIT, {**form_data(), "attachments": [upload(name, content, content_type)]}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert "内容" in errors[0]
    assert not Attachment.objects.exists() and not Case.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("photo.png", PNG, "image/png"),
        ("photo.JPG", JPEG, "image/jpeg"),
        ("invoice.pdf", PDF, "application/pdf"),
        ("notes.txt", "订单号 JD123，快递未到。".encode(), "text/plain"),
    ],
)
def test_files_whose_content_matches_are_kept(client, name, content, content_type):
    response = client.post(
        SUBMIT, {**form_data(), "attachments": [upload(name, content, content_type)]}
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Attachment.objects.get().file.read() == content


def test_the_service_refuses_html_named_png(assigned_case, handler):
    # The admin's upload and every channel store evidence through this service.
    from django.core.exceptions import ValidationError

    from complaints import services

    with pytest.raises(ValidationError) as exc:
        services.case_add_attachment(
            case=assigned_case, file=upload("screen.png", HTML, "image/png"), user=handler
        )
    assert "内容" in exc.value.message_dict["file"][0]
    assert not Attachment.objects.exists()


def test_a_declared_html_type_is_refused_whatever_the_name(client):
    png_as_html = upload("photo.png", PNG, "text/html")
    response = client.post(SUBMIT, {**form_data(), "attachments": [png_as_html]})
    assert "内容" in response.context["form"].errors["attachments"][0]
