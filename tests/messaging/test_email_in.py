"""E-mail in against a real Dovecot: Chinese encodings, attachments, threading, loops,
duplicates, crashes and quarantine."""

import base64
import imaplib
from email.mime.text import MIMEText

from complaints.models import Attachment, Case, CaseContact
from servicedesk.messaging.inbound import inbound_take, mailbox_poll
from servicedesk.messaging.models import FailingAddress, InboundMessage, InboundStatus
from tests.messaging.conftest import chinese_mail

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _unseen_all(dovecot):
    imap = imaplib.IMAP4("127.0.0.1", dovecot.port)
    imap.login(dovecot.user, dovecot.password)
    imap.select("INBOX")
    imap.store("1:*", "-FLAGS", "\\Seen")
    imap.logout()


def test_gbk_mail_with_attachment_opens_a_case_with_it(mailbox, dovecot):
    dovecot.append(chinese_mail(attachment=("发票.pdf", PDF)))

    counts = mailbox_poll(mailbox=mailbox)

    assert counts == {"processed": 1}
    case = Case.objects.get()
    assert case.channel == "email"
    assert case.subject == "电水壶漏水，要求退货"
    assert "电水壶今天开始漏水" in case.description
    assert case.customer.email == "zhangsan@example.com"
    assert case.customer.name == "张三"
    att = Attachment.objects.get(case=case)
    assert att.original_name == "发票.pdf"
    assert att.file.read() == PDF
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_gb2312_label_with_gbk_characters_and_html_only(mailbox, dovecot):
    # Labelled GB2312 but holding 镕 (GBK only), as many Chinese clients send it.
    subject = base64.b64encode("朱镕基路门店投诉".encode("gbk")).decode()
    dovecot.append(
        f"From: =?gb2312?B?{base64.b64encode('赵六'.encode('gbk')).decode()}?= <zl@example.com>\r\n"
        f"Subject: =?gb2312?B?{subject}?=\r\nMessage-ID: <gbk-1@example.com>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=gb2312\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n".encode()
        + "门店服务态度差。镕\r\n".encode("gbk")
    )
    # The second mail has only an HTML body.
    msg = MIMEText(
        "<html><head><style>p{color:red}</style></head><body><p>快递<b>三天</b>没到</p>"
        "<div>请帮忙查询</div><blockquote>以前的邮件内容</blockquote></body></html>",
        "html",
        "utf-8",
    )
    msg["Subject"], msg["From"] = "=?utf-8?b?5b+r6YCS5rKh5Yiw?=", "lisi@example.com"
    msg["Message-ID"] = "<html-only@example.com>"
    dovecot.append(msg.as_bytes())

    mailbox_poll(mailbox=mailbox)

    first, second = Case.objects.order_by("pk")
    assert first.subject == "朱镕基路门店投诉"
    assert "镕" in first.description
    assert second.subject == "快递没到"
    assert second.description.split() == ["快递三天没到", "请帮忙查询"]


def test_customer_reply_to_our_reply_threads_into_the_case_and_reopens_it(
    mailbox, dovecot, smtp, client, agent
):
    from servicedesk.messaging.outbound import outbound_send_due
    from tests.complaints.helpers import walk

    dovecot.append(chinese_mail())
    mailbox_poll(mailbox=mailbox)
    case = Case.objects.get()

    client.force_login(agent)
    response = client.post(
        f"/api/v1/cases/{case.number}/replies/",
        {"body": "您好，已为您登记退货，快递员明天上门取件。", "public": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert outbound_send_due() == 1
    assert len(smtp.messages) == 1
    import email

    sent = email.message_from_bytes(smtp.messages[0]["raw"])
    assert smtp.messages[0]["to"] == ["zhangsan@example.com"]
    assert f"[{case.number}]" in str(
        email.header.make_header(email.header.decode_header(sent["Subject"]))
    )
    assert sent["In-Reply-To"]
    our_id = sent["Message-ID"]

    if case.assignee_id is None:
        from complaints import services

        case = services.case_transition(
            case=case, name="assign", user=agent, department=agent.departments.first(),
            assignee=agent,
        )  # fmt: skip
    walk(case, agent, ("start_investigation", {}), ("resolve", {"result": "已安排退货"}))

    reply = chinese_mail(
        subject="回复：电水壶漏水，要求退货",
        body="好的，明天下午在家。\n\n发自我的iPhone\n\n------------------ 原始邮件 ------------------\n"
        "发件人: 客服中心\n您好，已为您登记退货。",
        in_reply_to=our_id,
    )
    dovecot.append(reply)
    counts = mailbox_poll(mailbox=mailbox)

    assert counts == {"processed": 1}
    assert Case.objects.count() == 1
    case.refresh_from_db()
    assert case.state == "reopened"
    contacts = list(CaseContact.objects.filter(case=case).order_by("pk"))
    assert len(contacts) == 2
    assert "明天下午在家" in contacts[1].raw_text
    assert "原始邮件" not in contacts[1].raw_text
    assert "iPhone" not in contacts[1].raw_text


def test_case_number_in_subject_threads_only_for_the_case_customer(mailbox, dovecot):
    dovecot.append(chinese_mail())
    mailbox_poll(mailbox=mailbox)
    case = Case.objects.get()
    dovecot.append(chinese_mail(subject=f"补充说明 [{case.number}]", body="补充：型号 K-100"))
    dovecot.append(
        chinese_mail(subject=f"[{case.number}] 我也要投诉", sender=("王五", "wangwu@example.com"))
    )

    mailbox_poll(mailbox=mailbox)

    assert Case.objects.count() == 2
    assert CaseContact.objects.filter(case=case).count() == 2


def test_auto_replies_bulk_and_our_own_mail_create_nothing(mailbox, dovecot):
    dovecot.append(
        chinese_mail(subject="自动回复：我正在休假", headers={"Auto-Submitted": "auto-replied"})
    )
    dovecot.append(chinese_mail(subject="双十一大促", headers={"Precedence": "bulk"}))
    dovecot.append(chinese_mail(subject="Out of office", headers={"X-Autoreply": "yes"}))
    dovecot.append(chinese_mail(subject="我们自己的邮件", sender=("客服", "kefu@shop.example.cn")))

    counts = mailbox_poll(mailbox=mailbox)

    assert counts == {"ignored": 4}
    assert Case.objects.count() == 0
    assert InboundMessage.objects.filter(status=InboundStatus.IGNORED).count() == 4


def test_bounce_marks_the_address_failing_instead_of_opening_a_case(mailbox, dovecot):
    dsn = (
        b"From: MAILER-DAEMON@mx.example.cn\r\nTo: kefu@shop.example.cn\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.example.cn>\r\n"
        b"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.cn\r\n\r\n"
        b"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <ours@shop.example.cn>\r\n"
        b"--B--\r\n"
    )
    dovecot.append(dsn)

    assert mailbox_poll(mailbox=mailbox) == {"bounce": 1}
    assert Case.objects.count() == 0
    assert list(FailingAddress.objects.values_list("address", flat=True)) == ["gone@example.com"]


def test_polling_twice_and_a_crash_mid_batch_create_no_duplicates(mailbox, dovecot):
    raws = [
        chinese_mail(subject=f"问题{i}", sender=(f"客户{i}", f"c{i}@example.com")) for i in range(3)
    ]
    for raw in raws:
        dovecot.append(raw)
    # A worker took in the first two, then died before flagging them on the server.
    inbound_take(mailbox=mailbox, raw=raws[0])
    inbound_take(mailbox=mailbox, raw=raws[1])

    mailbox_poll(mailbox=mailbox)
    mailbox_poll(mailbox=mailbox)
    _unseen_all(dovecot)  # the flags were lost: everything looks new again
    mailbox_poll(mailbox=mailbox)

    assert Case.objects.count() == 3
    assert InboundMessage.objects.count() == 3
    assert CaseContact.objects.count() == 3


def test_broken_message_is_quarantined_and_the_next_still_processed(mailbox, dovecot):
    dovecot.append(b"Subject: no sender at all\r\n\r\n\xff\xfe garbage")
    dovecot.append(chinese_mail(subject="正常的邮件"))

    counts = mailbox_poll(mailbox=mailbox)

    assert counts == {"quarantined": 1, "processed": 1}
    bad = InboundMessage.objects.get(status=InboundStatus.QUARANTINED)
    assert "no sender" in bad.reason
    assert bytes(bad.raw).startswith(b"Subject: no sender at all")
    assert Case.objects.get().subject == "正常的邮件"


def test_processed_mail_is_moved_when_an_archive_folder_is_set(mailbox, dovecot):
    mailbox.archive_folder = "Archive"
    mailbox.save()
    dovecot.append(chinese_mail())

    mailbox_poll(mailbox=mailbox)

    imap = imaplib.IMAP4("127.0.0.1", dovecot.port)
    imap.login(dovecot.user, dovecot.password)
    assert imap.select("INBOX")[1] == [b"0"]
    assert imap.select("Archive")[1] == [b"1"]
    imap.logout()


def test_wrong_password_is_recorded_on_the_mailbox(mailbox, monkeypatch):
    monkeypatch.setenv("TEST_MAILBOX_PASSWORD", "wrong")

    assert mailbox_poll(mailbox=mailbox) == {}

    mailbox.refresh_from_db()
    assert mailbox.last_error
    assert Case.objects.count() == 0


def test_a_quarantined_message_can_be_taken_in_again_from_the_admin(mailbox, client, make_user):
    # Quarantined earlier (say, by a version that could not read it); readable now.
    record = InboundMessage.objects.create(
        mailbox=mailbox, message_id="<q-1@example.com>", status=InboundStatus.QUARANTINED,
        reason="LookupError: unknown encoding", raw=chinese_mail(message_id="<q-1@example.com>"),
    )  # fmt: skip
    client.force_login(make_user("root", is_superuser=True))

    response = client.post(
        "/admin/messaging/inboundmessage/",
        {"action": "take_in_again", "_selected_action": [record.pk]},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 302
    assert InboundMessage.objects.get().status == InboundStatus.PROCESSED
    assert Case.objects.count() == 1
