from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "servicedesk.messaging"
    label = "messaging"
    verbose_name = _("Channels: e-mail, WeChat, webhooks")

    def ready(self):
        from . import events  # noqa: F401  (connects the webhook event receivers)
