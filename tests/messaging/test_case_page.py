"""The reply box on the case page: public reply vs internal note, canned replies, status."""

from complaints.models import CaseEvent
from knowledge.models import Article
from servicedesk.messaging.models import OutboundMessage
from servicedesk.messaging.outbound import outbound_send_due
from tests.complaints.helpers import intake


def _page(case):
    return f"/admin/complaints/case/{case.pk}/change/"


def _reply_url(case):
    return f"/admin/messaging/outboundmessage/reply/{case.pk}/"


def test_case_page_shows_the_reply_box_with_standard_replies(client, agent):
    Article.objects.create(
        title="退货流程说明", body="您好，退货请在订单页点击“申请退货”。", category="standard_reply",
        status="published", author=agent,
    )  # fmt: skip
    case = intake(customer={"name": "张三", "email": "zs@example.com"}).case
    client.force_login(agent)

    response = client.get(_page(case), HTTP_ACCEPT_LANGUAGE="zh-hans")

    html = response.content.decode()
    assert 'id="reply"' in html
    assert "退货流程说明" in html
    assert "messaging/reply.js" in html
    assert "<script>" not in html.split('id="reply"')[1].split("</section>")[0]


def test_public_reply_and_internal_note_from_the_case_page(client, agent, smtp):
    case = intake(customer={"name": "张三", "email": "zs@example.com"}).case
    client.force_login(agent)

    public = client.post(
        _reply_url(case),
        {"body": "您好，已处理。", "kind": "public", "expected_version": case.version},
    )
    case.refresh_from_db()
    note = client.post(
        _reply_url(case),
        {"body": "内部：已联系仓库", "kind": "note", "expected_version": case.version},
    )
    outbound_send_due()

    assert public.status_code == 302 and note.status_code == 302
    assert OutboundMessage.objects.filter(case=case).count() == 1
    assert len(smtp.messages) == 1
    assert list(
        CaseEvent.objects.filter(case=case, kind__in=["reply", "note", "delivery"])
        .order_by("pk")
        .values_list("kind", flat=True)
    ) == ["reply", "note", "delivery"]
    page = client.get(_page(case), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "公开回复" in page
    assert "内部备注" in page
    assert 'data-status="sent"' in page


def test_empty_reply_from_the_case_page_saves_nothing(client, agent):
    case = intake(customer={"name": "张三", "email": "zs@example.com"}).case
    client.force_login(agent)

    response = client.post(_reply_url(case), {"body": " ", "kind": "public"}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="zh-hans")  # fmt: skip

    assert response.status_code == 200
    assert OutboundMessage.objects.count() == 0
    assert CaseEvent.objects.filter(case=case, kind="reply").count() == 0
