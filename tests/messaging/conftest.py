"""Fixtures for the channel tests: real servers on free ports (Dovecot, an SMTP sink, local
HTTP servers), a mailbox row pointing at the Dovecot, and mail builders."""

import datetime
import os
import shutil
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid
from zoneinfo import ZoneInfo

import pytest

from tests.messaging.servers import DOVECOT, Dovecot, HttpServer, SmtpSink

TZ = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=TZ)


@pytest.fixture
def dovecot():
    if not shutil.which(DOVECOT) and not os.path.exists(DOVECOT):
        message = (
            "Dovecot is not installed (apt-get install dovecot-imapd; tests/ensure-dovecot.sh)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = Dovecot().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(settings):
    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield sink
    sink.stop()


@pytest.fixture
def http_server():
    servers = []

    def start(handle=None):
        server = HttpServer(handle).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def mailbox(db, dovecot, monkeypatch):
    from servicedesk.messaging.models import Mailbox, Security

    monkeypatch.setenv("TEST_MAILBOX_PASSWORD", dovecot.password)
    return Mailbox.objects.create(
        name="客服邮箱", address="kefu@shop.example.cn", host="127.0.0.1", port=dovecot.port,
        security=Security.NONE, username=dovecot.user, password_env="TEST_MAILBOX_PASSWORD",
    )  # fmt: skip


def chinese_mail(
    *, subject="电水壶漏水，要求退货", body="您好：\n我上周买的电水壶今天开始漏水，请尽快处理。",
    charset="gbk", sender=("张三", "zhangsan@example.com"), attachment=None, headers=None,
    message_id=None, in_reply_to=None,
):  # fmt: skip
    """A mail as Chinese clients send it: GBK body, RFC 2047 subject and names."""
    msg = MIMEMultipart() if attachment else MIMEText(body, "plain", charset)
    if attachment:
        msg.attach(MIMEText(body, "plain", charset))
        name, data = attachment
        part = MIMEApplication(data, Name=None)
        part.add_header(
            "Content-Disposition", "attachment", filename=Header(name, charset).encode()
        )
        msg.attach(part)
    msg["Subject"] = Header(subject, charset).encode()
    msg["From"] = formataddr((str(Header(sender[0], charset).encode()), sender[1]))
    msg["To"] = "kefu@shop.example.cn"
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for key, value in (headers or {}).items():
        msg[key] = value
    return msg.as_bytes()
