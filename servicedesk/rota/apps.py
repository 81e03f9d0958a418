from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RotaConfig(AppConfig):
    name = "servicedesk.rota"
    label = "rota"
    verbose_name = _("Duty rota")
