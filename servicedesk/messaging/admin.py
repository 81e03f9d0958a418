"""The channels in the admin: mailboxes and what they brought in (with the quarantine),
outgoing replies, WeChat accounts, webhook subscriptions and their delivery log."""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from servicedesk.admin_readonly import ReadOnlyMixin

from . import inbound, outbound, webhooks
from .admin_reply import register_reply_panel
from .models import (
    FailingAddress,
    InboundMessage,
    InboundStatus,
    Mailbox,
    OutboundMessage,
    WebhookDelivery,
    WebhookEventType,
    WebhookSubscription,
    WeChatAccount,
    WeChatFollower,
    WeChatMessage,
)

register_reply_panel()


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Messages, followers and deliveries: records of what came in and went out."""


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "host", "port", "is_active", "last_polled_at", "last_error"]
    readonly_fields = ["last_polled_at", "last_error"]
    actions = ["poll_now"]

    @admin.action(description=_("Fetch new mail now"))
    def poll_now(self, request, queryset):
        for mailbox in queryset:
            counts = inbound.mailbox_poll(mailbox=mailbox)
            mailbox.refresh_from_db()
            if mailbox.last_error:
                self.message_user(request, f"{mailbox}: {mailbox.last_error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(mailbox)s: %(count)s new message(s).")
                    % {"mailbox": mailbox, "count": sum(counts.values())},
                )


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "mailbox", "status", "from_address", "subject", "case_link"]
    list_filter = ["status", "mailbox"]
    list_select_related = ["mailbox", "case"]
    search_fields = ["message_id", "from_address", "subject"]
    fields = ["mailbox", "message_id", "status", "reason", "from_address", "subject", "case",
              "received_at", "raw_source"]  # fmt: skip
    readonly_fields = fields
    actions = ["take_in_again"]

    def has_change_permission(self, request, obj=None):
        # The action needs it; no field of a row is editable (all read-only).
        return request.user.has_perm("messaging.change_inboundmessage")

    @admin.action(description=_("Take the quarantined messages in again"))
    def take_in_again(self, request, queryset):
        outcomes = [inbound.inbound_retake(record=r) for r in queryset.select_related("mailbox")]
        still = sum(r.status == InboundStatus.QUARANTINED for r in outcomes)
        self.message_user(
            request,
            _("%(done)s taken in, %(still)s still quarantined.")
            % {"done": len(outcomes) - still, "still": still},
        )

    @admin.display(description=_("case"))
    def case_link(self, obj):
        if not obj.case_id:
            return "—"
        url = reverse("admin:complaints_case_change", args=[obj.case_id])
        return format_html('<a href="{}">{}</a>', url, obj.case.number)

    @admin.display(description=_("raw source"))
    def raw_source(self, obj):
        raw = bytes(obj.raw or b"")
        if not raw:
            return "—"
        return format_html("<pre>{}</pre>", raw[:20000].decode("utf-8", errors="replace"))


@admin.register(FailingAddress)
class FailingAddressAdmin(admin.ModelAdmin):
    list_display = ["address", "bounces", "last_bounced_at"]
    search_fields = ["address"]
    readonly_fields = ["address", "reason", "bounces", "last_bounced_at"]

    def has_add_permission(self, request):
        return False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "channel", "to", "status", "attempts", "sent_at",
                    "last_error"]  # fmt: skip
    list_filter = ["status", "channel"]
    list_select_related = ["case"]
    search_fields = ["case__number", "to", "message_id"]
    actions = ["send_again"]

    def get_urls(self):
        from django.urls import path

        from .admin_reply import reply_view

        return [
            path(
                "reply/<int:pk>/",
                self.admin_site.admin_view(reply_view),
                name="messaging_outboundmessage_reply",
            ),
            *super().get_urls(),
        ]

    @admin.action(description=_("Send the failed replies again"))
    def send_again(self, request, queryset):
        count = sum(outbound.outbound_requeue(message=m) for m in queryset)
        outbound.enqueue_send()
        self.message_user(
            request, ngettext("%d reply queued again.", "%d replies queued again.", count) % count
        )


@admin.register(WeChatAccount)
class WeChatAccountAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "app_id", "is_active", "callback_url"]
    fields = ["name", "app_id", "app_secret_env", "token", "encoding_aes_key", "api_base_url",
              "is_active", "callback_url"]  # fmt: skip
    readonly_fields = ["callback_url"]

    @admin.display(description=_("callback URL (服务器地址)"))
    def callback_url(self, obj):
        from django.conf import settings

        if not obj.pk:
            return _("Shown after saving.")
        return f"{settings.SITE_URL}{reverse('messaging:wechat_callback', args=[obj.pk])}"


@admin.register(WeChatFollower)
class WeChatFollowerAdmin(ReadOnlyAdmin):
    list_display = ["openid", "account", "customer", "created_at"]
    list_select_related = ["account", "customer"]
    search_fields = ["openid"]


@admin.register(WeChatMessage)
class WeChatMessageAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "account", "msg_type", "content", "case"]
    list_select_related = ["account", "case"]
    search_fields = ["msg_id", "openid"]


class SubscriptionForm(forms.ModelForm):
    target_url = forms.URLField(label=_("target URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"), choices=WebhookEventType.choices, widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        label=_("secret"),
        required=False,
        min_length=16,
        max_length=128,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("At least 16 characters. Leave empty to keep the current one."),
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "target_url", "events", "secret", "is_active"]

    def clean_secret(self):
        secret = self.cleaned_data.get("secret")
        if not secret:
            if not self.instance.pk:
                raise forms.ValidationError(_("Set a secret."))
            return self.instance.secret
        return secret


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    form = SubscriptionForm
    list_display = ["name", "target_url", "is_active", "paused_at", "owner"]
    list_select_related = ["owner"]
    readonly_fields = ["paused_at", "paused_reason"]
    actions = ["resume"]

    def get_fields(self, request, obj=None):
        return ["name", "target_url", "events", "secret", "is_active", "paused_at", "paused_reason"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Resume the paused subscriptions"))
    def resume(self, request, queryset):
        for sub in queryset:
            webhooks.subscription_resume(subscription=sub)
        self.message_user(request, _("Resumed."))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "subscription", "event_type", "status", "attempts",
                    "response_code", "duration_ms", "delivered_at", "last_error"]  # fmt: skip
    list_filter = ["status", "subscription"]
    list_select_related = ["subscription", "event"]
    actions = ["redeliver"]

    @admin.display(description=_("event"))
    def event_type(self, obj):
        return obj.event.get_type_display()

    @admin.action(description=_("Redeliver"))
    def redeliver(self, request, queryset):
        for delivery in queryset.select_related("subscription", "event"):
            webhooks.delivery_redeliver(delivery=delivery)
        self.message_user(request, _("Queued for delivery again."))

    def has_change_permission(self, request, obj=None):
        # The redeliver action needs it; the rows themselves have no editable field.
        return request.user.has_perm("messaging.change_webhookdelivery")
