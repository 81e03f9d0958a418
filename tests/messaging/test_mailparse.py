"""Reading Chinese mail: the pure parsing rules, without servers."""

import pytest

from servicedesk.messaging import mailparse


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("好的，谢谢。\n\n-----原始邮件-----\n发件人: 客服\n旧内容", "好的，谢谢。"),
        ("收到\n\n在 2026年12月1日 10:00，客服中心 写道：\n> 旧内容", "收到"),
        ("OK\n\nOn Tue, Dec 1, 2026 at 10:00 AM Support <a@b.c> wrote:\n> old", "OK"),
        ("明天在家\n\n发自我的iPhone", "明天在家"),
        ("第一行\n第二行\n-- \n张三\n138xxxx", "第一行\n第二行"),
        (
            "------------------ 原始邮件 ------------------\n只有引用",
            "------------------ 原始邮件 ------------------\n只有引用",
        ),
    ],
)
def test_trim_reply_keeps_what_the_customer_wrote_this_time(text, kept):
    assert mailparse.trim_reply(text) == kept


def test_encoded_words_in_gb_charsets_and_adjacent_words():
    import base64

    gbk = base64.b64encode("镕基".encode("gbk")).decode()
    assert mailparse.decode_words(f"=?gb2312?B?{gbk}?=") == "镕基"
    assert mailparse.decode_words("=?utf-8?B?5oqV?= =?utf-8?B?6K+J?=") == "投诉"
    assert mailparse.decode_words(None) == ""


def test_html_to_text_drops_styles_scripts_and_quotes():
    html = (
        "<html><head><style>x{}</style><script>alert(1)</script></head><body>"
        "<div>第一段</div><p>第二段<br>换行</p><blockquote>引用</blockquote></body></html>"
    )
    assert mailparse.html_to_text(html).split("\n") == ["第一段", "第二段", "换行"]


def test_an_empty_or_senderless_message_is_unreadable():
    with pytest.raises(mailparse.Unreadable):
        mailparse.parse(b"")
    with pytest.raises(mailparse.Unreadable):
        mailparse.parse(b"Subject: hi\r\n\r\nbody")


def test_a_message_without_message_id_gets_a_stable_one():
    raw = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody"
    assert mailparse.parse(raw).message_id == mailparse.parse(raw).message_id
    assert mailparse.parse(raw).message_id.startswith("<sha256-")
