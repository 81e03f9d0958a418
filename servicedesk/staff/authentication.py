"""API token authentication in one prepared statement.

DRF's TokenAuthentication builds `Token.objects.select_related("user").get(key=…)` through the
ORM on every API request: more Python than the lookup itself costs the database. This reads
the same token and person in one statement whose text is built once per process and which
PostgreSQL plans once per connection (servicedesk/prepared.py); on PostgreSQL the same
statement brings the person's permissions (as an array), which every API request checks and
which took a second statement. Same answers and errors as DRF's: an unknown key or an inactive
person is refused. On PostgreSQL a web process keeps the rows it read until the database
notifies a change to tokens, people or permissions (servicedesk/staff/token_cache.py); each
request still builds its own person and token from the row."""

import functools

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from servicedesk.prepared import columns, default_connection, instance, prepared_cursor

from .backends import permission_names_sql, remember_permissions
from .models import User
from .token_cache import kept_rows


@functools.cache
def _token_sql(vendor):
    quote = connection.ops.quote_name
    selected = [f"t.{quote(c)}" for c in columns(Token)]
    selected += [f"u.{quote(c)}" for c in columns(User)]
    if vendor == "postgresql":  # a superuser's are every permission: PermissionBackend reads them
        selected.append(
            f"CASE WHEN u.is_superuser THEN NULL ELSE ARRAY({permission_names_sql('u.id')}) END"
        )
    return (
        f"SELECT {', '.join(selected)} FROM {quote(Token._meta.db_table)} t "
        f"JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id WHERE t.key = %s"
    )


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        db = default_connection()
        vendor = db.vendor
        kept = kept_rows(db)
        row = None if kept is None else kept.get(key)
        if row is None:
            generation = None if kept is None else kept.generation
            with prepared_cursor() as cursor:
                cursor.execute(_token_sql(vendor), [key])
                row = cursor.fetchone()
            if kept is not None and row is not None:
                kept.keep(key, row, generation)
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        split, end = len(columns(Token)), len(columns(Token)) + len(columns(User))
        token = instance(Token, row[:split])
        user = instance(User, row[split:end])
        token.user = user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if vendor == "postgresql" and row[end] is not None:
            remember_permissions(user, row[end])
        return user, token
