"""Channels in and out (渠道): mailboxes polled over IMAP and the log of every message they
brought in (processed once per Message-ID and mailbox; unreadable ones quarantined), the
outbox of replies to customers (e-mail, SMS, WeChat customer-service messages), WeChat
Official Accounts and their followers, and webhook subscriptions with their event outbox and
delivery log.

Every outgoing row (reply, webhook delivery) is the record of pending work: a worker claims it
(attempts + a lease in `next_attempt_at`), sends, then marks it sent or schedules a retry with
backoff; past the last attempt it is dead-lettered with the reason.
"""

import os
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import Case, Customer


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (local test servers only)")


class Mailbox(models.Model):
    """An IMAP mailbox customers write to. The password is never stored: `password_env` names
    the environment variable that holds it."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(
        _("address"),
        help_text=_("Our address: replies are sent from it; mail from it is never taken in."),
    )
    host = models.CharField(_("IMAP host"), max_length=200)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    username = models.CharField(_("user name"), max_length=200)
    password_env = models.CharField(
        _("password variable"),
        max_length=100,
        help_text=_(
            "Name of the environment variable holding the password, e.g. MAILBOX_KEFU_PASSWORD."
        ),
    )
    folder = models.CharField(_("folder"), max_length=100, default="INBOX")
    archive_folder = models.CharField(
        _("move processed mail to"),
        max_length=100,
        blank=True,
        help_text=_("Empty: processed mail stays in the folder, flagged as read."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} <{self.address}>"

    def password(self):
        return os.environ.get(self.password_env, "")


class InboundStatus(models.TextChoices):
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (auto-reply, bulk, our own)")
    BOUNCE = "bounce", _("Bounce")
    QUARANTINED = "quarantined", _("Quarantined")


class InboundMessage(models.Model):
    """One message taken from a mailbox: the key (mailbox, Message-ID) makes taking it in
    happen once, whatever how often polling sees it."""

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, related_name="messages", verbose_name=_("mailbox")
    )
    message_id = models.CharField(_("Message-ID"), max_length=255)
    status = models.CharField(_("status"), max_length=12, choices=InboundStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    case = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    raw = models.BinaryField(_("raw source"), blank=True, editable=False)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("incoming e-mail")
        verbose_name_plural = _("incoming e-mail")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "message_id"], name="messaging_inbound_once")
        ]
        indexes = [models.Index(fields=["message_id"], name="messaging_inbound_msgid")]

    def __str__(self):
        return f"{self.subject or self.message_id}"


class FailingAddress(models.Model):
    """A customer address that bounced (a delivery-status notification said so)."""

    address = models.CharField(_("address"), max_length=254, unique=True)
    reason = models.TextField(_("reason"), blank=True)
    bounces = models.PositiveIntegerField(_("bounces"), default=1)
    last_bounced_at = models.DateTimeField(_("last bounce"), default=timezone.now)

    class Meta:
        verbose_name = _("failing address")
        verbose_name_plural = _("failing addresses")
        ordering = ["-last_bounced_at"]

    def __str__(self):
        return self.address


# --- replies out ---------------------------------------------------------------------------


class OutboundChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class DueQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now)


class OutboundMessage(models.Model):
    """A public reply on its way to the customer (the outbox)."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="+", verbose_name=_("case")
    )
    event_id = models.BigIntegerField(_("timeline event"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=OutboundChannel.choices)
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"))
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, db_index=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=255, blank=True)
    references = models.TextField(_("References"), blank=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    wechat_account = models.ForeignKey(
        "WeChatAccount", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    objects = DueQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing reply")
        verbose_name_plural = _("outgoing replies")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="messaging_outbound_due",
                condition=Q(status="queued"),
            )
        ]

    def __str__(self):
        return f"{self.case_id} → {self.to}"


# --- WeChat --------------------------------------------------------------------------------


class WeChatAccount(models.Model):
    """A WeChat Official Account (微信公众号). Its callback URL is /wechat/<id>/."""

    name = models.CharField(_("name"), max_length=100)
    app_id = models.CharField(_("AppID"), max_length=64, unique=True)
    app_secret_env = models.CharField(
        _("AppSecret variable"),
        max_length=100,
        help_text=_("Name of the environment variable holding the AppSecret."),
    )
    token = models.CharField(
        _("token"), max_length=64, help_text=_("The Token set in the WeChat console.")
    )
    encoding_aes_key = models.CharField(
        _("EncodingAESKey"),
        max_length=43,
        blank=True,
        help_text=_("43 characters; needed for safe mode (安全模式)."),
    )
    api_base_url = models.URLField(_("API base URL"), default="https://api.weixin.qq.com")
    is_active = models.BooleanField(_("active"), default=True)
    access_token = models.CharField(max_length=512, blank=True, editable=False)
    access_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("WeChat account")
        verbose_name_plural = _("WeChat accounts")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def app_secret(self):
        return os.environ.get(self.app_secret_env, "")


class WeChatFollower(models.Model):
    """A follower of an account (OpenID) and the customer they are."""

    account = models.ForeignKey(
        WeChatAccount, on_delete=models.PROTECT, related_name="followers", verbose_name=_("account")
    )
    openid = models.CharField(_("OpenID"), max_length=64)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    created_at = models.DateTimeField(_("first message"), default=timezone.now)

    class Meta:
        verbose_name = _("WeChat follower")
        verbose_name_plural = _("WeChat followers")
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="messaging_follower_once")
        ]

    def __str__(self):
        return self.openid


class WeChatMessage(models.Model):
    """A message a follower sent; (account, MsgId) makes WeChat's retries harmless."""

    account = models.ForeignKey(
        WeChatAccount, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    msg_id = models.CharField(_("MsgId"), max_length=64)
    openid = models.CharField(_("OpenID"), max_length=64)
    msg_type = models.CharField(_("type"), max_length=20)
    content = models.TextField(_("content"), blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    # A picture or voice message: its file is fetched from the media API as case evidence.
    media_id = models.CharField(_("MediaId"), max_length=128, blank=True)
    media_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    media_saved_at = models.DateTimeField(null=True, blank=True, editable=False)
    media_error = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("WeChat message")
        verbose_name_plural = _("WeChat messages")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["account", "msg_id"], name="messaging_wechat_once")
        ]

    def __str__(self):
        return self.msg_id


# --- webhooks ------------------------------------------------------------------------------


class WebhookEventType(models.TextChoices):
    CASE_CREATED = "case.created", _("Case created")
    CASE_STATE_CHANGED = "case.state_changed", _("Case state changed")
    CASE_ASSIGNED = "case.assigned", _("Case assigned")
    CASE_ESCALATED = "case.escalated", _("Case escalated")
    CASE_REPLY_SENT = "case.reply_sent", _("Reply sent to the customer")
    CASE_REPLY_RECEIVED = "case.reply_received", _("Reply received from the customer")
    SURVEY_ANSWERED = "survey.answered", _("Survey answered")
    ALERT_RAISED = "alert.raised", _("Alert raised")


class WebhookSubscription(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
        help_text=_("Told when the subscription is paused after failing."),
    )
    name = models.CharField(_("name"), max_length=100)
    target_url = models.URLField(_("target URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(
        _("secret"), max_length=128, help_text=_("Used to sign each request (X-Signature).")
    )
    is_active = models.BooleanField(_("active"), default=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True, editable=False)
    paused_reason = models.TextField(_("why paused"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        from .webhooks import TargetRefused, check_target

        unknown = set(self.events or []) - set(WebhookEventType.values)
        if unknown or not self.events:
            raise ValidationError({"events": _("Choose at least one of the listed events.")})
        try:
            check_target(self.target_url)
        except TargetRefused as exc:
            raise ValidationError({"target_url": str(exc)}) from exc


class WebhookEvent(models.Model):
    """One event, written in the transaction that caused it; `id` is what receivers de-duplicate by."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("event"), max_length=40, choices=WebhookEventType.choices)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """One event to one subscription: the outbox row and its delivery log."""

    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = DueQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="messaging_webhook_due",
                condition=Q(status="queued"),
            )
        ]

    def __str__(self):
        return f"{self.event.type} → {self.subscription}"
