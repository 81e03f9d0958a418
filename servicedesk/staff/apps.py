from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    name = "servicedesk.staff"
    label = "staff"
    verbose_name = _("Staff and departments")

    def ready(self):
        from . import roles

        # Permissions of every app exist only after its post_migrate; syncing the role
        # groups then keeps them complete as later apps add models.
        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="staff.sync_roles")
