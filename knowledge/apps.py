from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = _("Knowledge and contingency plans")

    def ready(self):
        from django.db.models.signals import post_migrate

        from .fts import ensure_sqlite_triggers

        post_migrate.connect(ensure_sqlite_triggers, dispatch_uid="knowledge.fts_triggers")
