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
