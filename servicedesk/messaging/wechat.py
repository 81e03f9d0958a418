"""WeChat Official Account (微信公众号): the callback protocol and the customer-service message API.

Our own ~100 lines on `cryptography` rather than wechatpy: we need four things (the SHA1
signature, AES-256-CBC safe mode, a tiny XML reader, two API calls), wechatpy would add
requests, xmltodict, optionaldict and python-dateutil for them, and its client caches tokens in
its own session storage while ours lives on the account row that every worker shares.

Protocol (developers.weixin.qq.com, "接入概述" / "消息加解密说明" / "客服消息"):
- signature = sha1(sorted(token, timestamp, nonce) joined); safe mode signs the Encrypt field
  too (msg_signature = sha1(sorted(token, timestamp, nonce, encrypt))).
- Encrypt = base64(AES-256-CBC(key, iv=key[:16], PKCS#7 to 32 bytes,
  16 random bytes + 4-byte big-endian length + XML + AppID)), key = b64decode(EncodingAESKey+"=").
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import urllib.parse
import urllib.request
from xml.etree import ElementTree

from django.db import transaction
from django.utils import timezone

from .models import WeChatAccount

PAD_BLOCK = 32


class SignatureError(Exception):
    pass


class WeChatAPIError(Exception):
    def __init__(self, errcode, errmsg):
        self.errcode = errcode
        super().__init__(f"WeChat API error {errcode}: {errmsg}")


def signature(*parts):
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode()).hexdigest()


def check_signature(expected, *parts):
    if not expected or not hmac.compare_digest(signature(*parts), str(expected)):
        raise SignatureError("bad signature")


def _key(account):
    return base64.b64decode(account.encoding_aes_key + "=")


def _cipher(key):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(account, xml: str, random_bytes=None) -> str:
    key = _key(account)
    data = xml.encode()
    plain = (random_bytes or os.urandom(16)) + struct.pack(">I", len(data)) + data
    plain += account.app_id.encode()
    pad = PAD_BLOCK - len(plain) % PAD_BLOCK
    plain += bytes([pad]) * pad
    enc = _cipher(key).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def decrypt(account, encrypted: str) -> str:
    try:
        key = _key(account)
        dec = _cipher(key).decryptor()
        plain = dec.update(base64.b64decode(encrypted)) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= PAD_BLOCK:
            raise ValueError("bad padding")
        plain = plain[:-pad]
        (length,) = struct.unpack(">I", plain[16:20])
        xml, app_id = plain[20 : 20 + length], plain[20 + length :]
    except (ValueError, TypeError, struct.error, IndexError) as exc:
        # binascii.Error (bad base64) is a ValueError; a missing EncodingAESKey too.
        raise SignatureError(f"cannot decrypt: {exc}") from exc
    if app_id.decode(errors="replace") != account.app_id:
        raise SignatureError("the message is for another AppID")
    return xml.decode()


def parse_xml(body) -> dict:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise SignatureError(f"bad XML: {exc}") from exc
    return {child.tag: (child.text or "") for child in root}


def read_callback(account, params, body) -> dict:
    """The message fields of a POSTed callback, checked and decrypted. Raises SignatureError."""
    timestamp, nonce = params.get("timestamp", ""), params.get("nonce", "")
    if params.get("encrypt_type") == "aes":
        outer = parse_xml(body)
        encrypted = outer.get("Encrypt", "")
        check_signature(params.get("msg_signature"), account.token, timestamp, nonce, encrypted)
        return parse_xml(decrypt(account, encrypted))
    check_signature(params.get("signature"), account.token, timestamp, nonce)
    return parse_xml(body)


# --- the customer-service message API ----------------------------------------------------------


def _call(url, payload=None, timeout=10):
    data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read() or b"{}")
    if answer.get("errcode"):
        raise WeChatAPIError(answer["errcode"], answer.get("errmsg", ""))
    return answer


def access_token(account, *, refresh=False, now=None):
    """The account's access token, from the row while valid; otherwise fetched and stored (the
    row lock keeps two workers from both fetching, which would invalidate the first token)."""
    now = now or timezone.now()
    if (
        not refresh
        and account.access_token
        and account.access_token_expires_at
        and account.access_token_expires_at > now
    ):
        return account.access_token
    with transaction.atomic():
        locked = WeChatAccount.objects.select_for_update().get(pk=account.pk)
        if (
            not refresh
            and locked.access_token
            and locked.access_token_expires_at
            and locked.access_token_expires_at > now
        ):
            account.access_token = locked.access_token
            account.access_token_expires_at = locked.access_token_expires_at
            return locked.access_token
        query = urllib.parse.urlencode(
            {
                "grant_type": "client_credential",
                "appid": locked.app_id,
                "secret": locked.app_secret(),
            }
        )
        answer = _call(f"{locked.api_base_url.rstrip('/')}/cgi-bin/token?{query}")
        locked.access_token = answer["access_token"]
        # Refresh five minutes early: WeChat's 7200 s is counted from its side.
        locked.access_token_expires_at = now + datetime.timedelta(
            seconds=max(int(answer.get("expires_in", 7200)) - 300, 60)
        )
        locked.save(update_fields=["access_token", "access_token_expires_at"])
    account.access_token = locked.access_token
    account.access_token_expires_at = locked.access_token_expires_at
    return account.access_token


def send_text(*, account, openid, text):
    """Send a customer-service text message to a follower (refreshing a stale token once)."""
    payload = {"touser": openid, "msgtype": "text", "text": {"content": text}}
    base = account.api_base_url.rstrip("/")
    for refresh in (False, True):
        token = access_token(account, refresh=refresh)
        try:
            return _call(f"{base}/cgi-bin/message/custom/send?access_token={token}", payload)
        except WeChatAPIError as exc:
            # 40001 invalid credential, 40014 invalid token, 42001 token expired.
            if refresh or exc.errcode not in (40001, 40014, 42001):
                raise
    return None


def media_get(*, account, media_id, timeout=30):
    """(bytes, content type) of a follower's picture or voice (临时素材 /cgi-bin/media/get)."""
    base = account.api_base_url.rstrip("/")
    for refresh in (False, True):
        token = access_token(account, refresh=refresh)
        query = urllib.parse.urlencode({"access_token": token, "media_id": media_id})
        with urllib.request.urlopen(f"{base}/cgi-bin/media/get?{query}", timeout=timeout) as r:
            content_type = r.headers.get_content_type()
            data = r.read()
        if content_type not in ("application/json", "text/plain"):
            return data, content_type
        answer = json.loads(data or b"{}")
        errcode = answer.get("errcode", -1)
        if refresh or errcode not in (40001, 40014, 42001):
            raise WeChatAPIError(errcode, answer.get("errmsg", ""))
    return None
