"""WeChat Official Account: signed callbacks (plaintext and safe mode), replays, and replies
through a local server speaking the customer-service message API."""

import base64
import json
import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from complaints.models import Attachment, Case, CaseContact
from servicedesk.messaging import wechat
from servicedesk.messaging.models import OutboundMessage, WeChatAccount, WeChatMessage
from servicedesk.messaging.outbound import outbound_send_due

TOKEN = "wx-callback-token"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


class FakeWeChat:
    """The two API calls we use, as documented: /cgi-bin/token and /cgi-bin/message/custom/send."""

    def __init__(self):
        self.tokens_issued = 0
        self.sent = []

    def __call__(self, method, path, headers, body):
        url = urlsplit(path)
        query = parse_qs(url.query)
        if url.path == "/cgi-bin/token":
            if query.get("secret") != ["the-app-secret"]:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            self.tokens_issued += 1
            return 200, {"access_token": f"TOKEN-{self.tokens_issued}", "expires_in": 7200}
        if url.path == "/cgi-bin/message/custom/send":
            if query.get("access_token") != [f"TOKEN-{self.tokens_issued}"]:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            self.sent.append(json.loads(body))
            return 200, {"errcode": 0, "errmsg": "ok"}
        if url.path == "/cgi-bin/media/get":
            if query.get("access_token") != [f"TOKEN-{self.tokens_issued}"]:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            return 200, JPEG, "image/jpeg"
        return 404, {"errcode": -1, "errmsg": "not found"}


@pytest.fixture
def api(http_server):
    fake = FakeWeChat()
    server = http_server(fake)
    fake.server = server
    return fake


@pytest.fixture
def account(db, api, monkeypatch):
    monkeypatch.setenv("TEST_WECHAT_SECRET", "the-app-secret")
    return WeChatAccount.objects.create(
        name="官方服务号", app_id="wx1234567890abcdef", app_secret_env="TEST_WECHAT_SECRET",
        token=TOKEN, encoding_aes_key=base64.b64encode(os.urandom(32)).decode()[:43],
        api_base_url=api.server.url,
    )  # fmt: skip


def _text_xml(content, msg_id="1234567890123456"):
    return (
        f"<xml><ToUserName><![CDATA[gh_abc]]></ToUserName>"
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>1764640000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def _post_plain(client, account, xml, *, forge=False):
    ts, nonce = str(int(time.time())), "nonce42"
    sig = wechat.signature(TOKEN, ts, nonce)
    if forge:
        sig = "0" * 40
    return client.post(
        f"/wechat/{account.pk}/?signature={sig}&timestamp={ts}&nonce={nonce}&openid={OPENID}",
        xml,
        content_type="text/xml",
    )


def _post_safe(client, account, xml, *, forge=False):
    ts, nonce = str(int(time.time())), "nonce43"
    encrypted = wechat.encrypt(account, xml)
    msg_sig = wechat.signature(TOKEN, ts, nonce, encrypted)
    if forge:
        msg_sig = wechat.signature("not-the-token", ts, nonce, encrypted)
    body = f"<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return client.post(
        f"/wechat/{account.pk}/?signature={wechat.signature(TOKEN, ts, nonce)}&timestamp={ts}"
        f"&nonce={nonce}&encrypt_type=aes&msg_signature={msg_sig}",
        body,
        content_type="text/xml",
    )


def test_get_verification_echoes_only_when_signed(client, account):
    ts, nonce = "1764640000", "abc"
    good = client.get(
        f"/wechat/{account.pk}/",
        {"signature": wechat.signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
         "echostr": "echo-me"},
    )  # fmt: skip
    forged = client.get(
        f"/wechat/{account.pk}/",
        {"signature": "f" * 40, "timestamp": ts, "nonce": nonce, "echostr": "echo-me"},
    )

    assert good.status_code == 200
    assert good.content == b"echo-me"
    assert forged.status_code == 403


def test_signed_text_message_opens_a_case_and_the_reply_reaches_the_api(
    client, account, api, agent
):
    response = _post_safe(client, account, _text_xml("我的订单三天没发货，电话13912345678"))

    assert response.status_code == 200
    assert response.content == b"success"
    case = Case.objects.get()
    assert case.channel == "wechat"
    assert "三天没发货" in case.description
    assert case.customer.phone == "13912345678"

    client.force_login(agent)
    for text in ("您好，已催促仓库今天发货。", "快递单号稍后发您。"):
        reply = client.post(
            f"/api/v1/cases/{case.number}/replies/",
            {"body": text, "public": True},
            content_type="application/json",
        )
        assert reply.status_code == 201
        assert reply.json()["channel"] == "wechat"
    assert outbound_send_due() == 2

    assert [m["text"]["content"] for m in api.sent] == [
        "您好，已催促仓库今天发货。",
        "快递单号稍后发您。",
    ]
    assert {m["touser"] for m in api.sent} == {OPENID}
    assert api.tokens_issued == 1  # cached between the two sends
    assert OutboundMessage.objects.filter(status="sent").count() == 2


def test_expired_token_is_refreshed_once(client, account, api, agent):
    _post_plain(client, account, _text_xml("咨询保修"))
    case = Case.objects.get()
    account.access_token = "TOKEN-stale"
    account.access_token_expires_at = case.created_at.replace(year=2099)
    account.save()
    client.force_login(agent)
    client.post(
        f"/api/v1/cases/{case.number}/replies/", {"body": "您好", "public": True},
        content_type="application/json",
    )  # fmt: skip

    assert outbound_send_due() == 1
    assert api.tokens_issued == 1
    assert len(api.sent) == 1


def test_forged_signatures_are_refused(client, account):
    assert _post_plain(client, account, _text_xml("伪造"), forge=True).status_code == 403
    assert _post_safe(client, account, _text_xml("伪造"), forge=True).status_code == 403
    assert Case.objects.count() == 0
    assert WeChatMessage.objects.count() == 0


def test_retries_of_a_msgid_are_taken_in_once_and_later_messages_join_the_open_case(
    client, account
):
    for _ in range(3):  # WeChat retries three times within 15 s
        assert _post_plain(client, account, _text_xml("洗衣机不脱水", "111")).content == b"success"
    _post_plain(client, account, _text_xml("补充：型号 XQB80", "222"))

    assert Case.objects.count() == 1
    assert WeChatMessage.objects.count() == 2
    assert CaseContact.objects.filter(case=Case.objects.get()).count() == 2


def test_picture_and_voice_messages_join_the_case(client, account):
    _post_plain(client, account, _text_xml("空调漏水", "301"))
    picture = (
        f"<xml><ToUserName>gh_abc</ToUserName><FromUserName>{OPENID}</FromUserName>"
        "<CreateTime>1764640001</CreateTime><MsgType>image</MsgType>"
        "<PicUrl>http://mmbiz.example/pic.jpg</PicUrl><MediaId>m1</MediaId><MsgId>302</MsgId></xml>"
    )
    voice = (
        f"<xml><ToUserName>gh_abc</ToUserName><FromUserName>{OPENID}</FromUserName>"
        "<CreateTime>1764640002</CreateTime><MsgType>voice</MsgType><MediaId>m2</MediaId>"
        "<Format>amr</Format><Recognition>滴水很严重</Recognition><MsgId>303</MsgId></xml>"
    )
    _post_plain(client, account, picture)
    _post_plain(client, account, voice)

    case = Case.objects.get()
    texts = list(CaseContact.objects.filter(case=case).values_list("raw_text", flat=True))
    assert len(texts) == 3
    assert any("http://mmbiz.example/pic.jpg" in t for t in texts)
    assert any("滴水很严重" in t for t in texts)
    # Both files come from the media API as case evidence, once (the fake serves a JPEG).
    from servicedesk.messaging.wechat_in import wechat_media_fetch_pending

    assert wechat_media_fetch_pending() == 2
    assert wechat_media_fetch_pending() == 0
    names = sorted(a.original_name for a in Attachment.objects.filter(case=case))
    assert names == ["wechat-302.jpg", "wechat-303.jpg"]
    assert Attachment.objects.filter(case=case).first().file.read() == JPEG


def test_subscribe_events_and_garbage_are_answered_without_a_case(client, account):
    event = (
        f"<xml><ToUserName>gh_abc</ToUserName><FromUserName>{OPENID}</FromUserName>"
        "<CreateTime>1764640003</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>"
    )
    assert _post_plain(client, account, event).content == b"success"
    assert _post_plain(client, account, "<xml><oops").status_code == 403
    assert Case.objects.count() == 0


def test_safe_mode_message_for_an_account_without_aes_key_is_refused(client, account):
    ts, nonce, encrypted = "1764640000", "n", "bm90LWFlcw=="
    WeChatAccount.objects.filter(pk=account.pk).update(encoding_aes_key="")
    body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"

    response = client.post(
        f"/wechat/{account.pk}/?timestamp={ts}&nonce={nonce}&encrypt_type=aes"
        f"&msg_signature={wechat.signature(TOKEN, ts, nonce, encrypted)}",
        body,
        content_type="text/xml",
    )

    assert response.status_code == 403
    assert WeChatMessage.objects.count() == 0
