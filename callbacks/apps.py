from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallbacksConfig(AppConfig):
    name = "callbacks"
    verbose_name = _("Follow-ups and surveys")

    def ready(self):
        # complaints must not import callbacks: it announces resolutions, we schedule surveys.
        from complaints.services import case_transitioned

        from . import services

        case_transitioned.connect(services.on_case_transitioned, dispatch_uid="callbacks.survey")

        # Return instructions go out as text messages through our SMS backend.
        from complaints import returns

        from . import sms

        if sms.send_one not in returns.SMS_SENDERS:
            returns.SMS_SENDERS.append(sms.send_one)
