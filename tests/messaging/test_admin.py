"""The channels in the admin: lists in constant queries, Chinese screens, the subscription form."""

import pytest

from servicedesk.messaging.models import (
    InboundMessage,
    Mailbox,
    OutboundMessage,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
    WeChatAccount,
)
from tests.complaints.helpers import intake

LISTS = ["mailbox", "inboundmessage", "outboundmessage", "webhooksubscription", "webhookdelivery",
         "wechataccount", "wechatfollower", "wechatmessage", "failingaddress"]  # fmt: skip


@pytest.fixture
def superuser(make_user):
    return make_user("root", is_superuser=True)


def _rows(n, owner):
    mailbox = Mailbox.objects.create(
        name=f"邮箱{n}", address=f"kefu{n}@shop.example.cn", host="imap.example.cn",
        username="kefu", password_env="MAILBOX_PASSWORD",
    )  # fmt: skip
    sub = WebhookSubscription.objects.create(
        owner=owner, name=f"CRM{n}", target_url="https://crm.example.com/hook",
        events=["alert.raised"], secret="x" * 20,
    )  # fmt: skip
    for i in range(n):
        case = intake().case
        InboundMessage.objects.create(
            mailbox=mailbox, message_id=f"<{n}-{i}@x>", status="processed", case=case
        )
        OutboundMessage.objects.create(case=case, channel="email", to="a@example.com", body="您好")
        event = WebhookEvent.objects.create(type="alert.raised", payload={})
        WebhookDelivery.objects.create(subscription=sub, event=event)


@pytest.mark.parametrize("count", [2, 12])
def test_lists_take_a_constant_number_of_queries(
    client, superuser, count, django_assert_max_num_queries
):
    _rows(count, superuser)
    client.force_login(superuser)
    for name in LISTS:
        with django_assert_max_num_queries(12):
            response = client.get(f"/admin/messaging/{name}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, name


def test_screens_are_in_chinese_and_never_show_secrets(client, superuser, monkeypatch):
    monkeypatch.setenv("MAILBOX_PASSWORD", "the-real-password")
    _rows(1, superuser)
    account = WeChatAccount.objects.create(
        name="服务号", app_id="wx1", app_secret_env="WX_SECRET", token="t", encoding_aes_key=""
    )
    client.force_login(superuser)

    mailbox_page = client.get(
        f"/admin/messaging/mailbox/{Mailbox.objects.get().pk}/change/",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    account_page = client.get(
        f"/admin/messaging/wechataccount/{account.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    sub_page = client.get(
        f"/admin/messaging/webhooksubscription/{WebhookSubscription.objects.get().pk}/change/",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()

    assert "密码环境变量" in mailbox_page
    assert "the-real-password" not in mailbox_page
    assert f"/wechat/{account.pk}/" in account_page
    assert "x" * 20 not in sub_page
    assert "触发预警" in sub_page


def test_subscription_form_refuses_a_private_target_with_a_chinese_error(
    client, superuser, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client.force_login(superuser)

    response = client.post(
        "/admin/messaging/webhooksubscription/add/",
        {"name": "内网", "target_url": "http://127.0.0.1:9000/hook", "events": ["case.created"],
         "secret": "s" * 20, "is_active": "on"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )  # fmt: skip

    assert response.status_code == 200
    assert "不能向内网或本机地址推送" in response.content.decode()
    assert WebhookSubscription.objects.count() == 0


def test_redeliver_action_queues_the_event_again(client, superuser):
    _rows(1, superuser)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    client.force_login(superuser)

    response = client.post(
        "/admin/messaging/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )

    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(event=delivery.event, status="queued").count() == 1
    assert WebhookDelivery.objects.filter(event=delivery.event).count() == 2
