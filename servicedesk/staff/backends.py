"""A person's permissions in one query instead of two.

Every API request checks a permission, and ModelBackend reads the person's own permissions
and their groups' permissions as two queries, each built by the ORM. PermissionBackend,
listed before ModelBackend, reads both in one statement whose text is built once per process,
into the same per-request cache (`_perm_cache`) ModelBackend reads: a permission it does not
find costs ModelBackend no query either. It authenticates nobody, so ModelBackend stays the
backend that logs people in and that their sessions name. Inactive people have no permission
and superusers have every one, as with ModelBackend."""

import functools

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from servicedesk.prepared import prepared_cursor

from .models import User


def permission_names_sql(user):
    """A SELECT of "app_label.codename" for each permission the person whose id is `user` (a
    column, or a placeholder given twice) has, in person or through a group."""

    def table(model):
        return connection.ops.quote_name(model._meta.db_table)

    return (
        f"SELECT ct.app_label || '.' || p.codename FROM {table(Permission)} p "
        f"JOIN {table(ContentType)} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN (SELECT permission_id FROM {table(User.user_permissions.through)} "
        f"  WHERE user_id = {user} "
        f"  UNION SELECT gp.permission_id FROM {table(Group.permissions.through)} gp "
        f"  JOIN {table(User.groups.through)} ug ON ug.group_id = gp.group_id "
        f"  WHERE ug.user_id = {user})"
    )


@functools.cache
def _permissions_sql():
    return permission_names_sql("%s")


def remember_permissions(user_obj, names):
    """The person's permissions, read with something else (the API token's statement), kept
    for this request as get_all_permissions keeps them."""
    user_obj._perm_cache = set(names)


class PermissionBackend:
    """Answers permission questions only. Not a ModelBackend subclass on purpose: it has no
    get_user, so test clients' force_login and sessions name ModelBackend."""

    def authenticate(self, request, **credentials):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
                user_obj._perm_cache = {f"{app}.{codename}" for app, codename in rows}
            else:
                with prepared_cursor() as cursor:
                    cursor.execute(_permissions_sql(), [user_obj.pk, user_obj.pk])
                    remember_permissions(user_obj, (name for (name,) in cursor.fetchall()))
        return user_obj._perm_cache

    def has_perm(self, user_obj, perm, obj=None):
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and any(
            perm.partition(".")[0] == app_label for perm in self.get_all_permissions(user_obj)
        )
