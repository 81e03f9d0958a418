from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Case desk")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from knowledge.models import Plan, PlanRevision, PlanStage
        from servicedesk.staff.models import Department

        from . import intake
        from .models import RoutingRule, UrgencyRule

        # Intake keeps the active rules (and the rules' departments) and the published plan
        # revisions (with their plans and stages) in process memory.
        for model in (UrgencyRule, RoutingRule, Department, Plan, PlanRevision, PlanStage):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(
                    intake.rules_changed,
                    sender=model,
                    dispatch_uid=f"intake-rules-{name}-{model._meta.label}",
                )
