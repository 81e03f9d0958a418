"""API token authentication in one prepared statement.

DRF's TokenAuthentication builds `Token.objects.select_related("user").get(key=…)` through the
ORM on every API request: more Python than the lookup itself costs the database. This reads
the same token and person in one statement whose text is built once per process and which
PostgreSQL plans once per connection (servicedesk/prepared.py). Same answers and errors as
DRF's: an unknown key or an inactive person is refused."""

import functools

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from servicedesk.prepared import columns, instance, prepared_cursor

from .models import User


@functools.cache
def _token_sql():
    quote = connection.ops.quote_name
    selected = [f"t.{quote(c)}" for c in columns(Token)]
    selected += [f"u.{quote(c)}" for c in columns(User)]
    return (
        f"SELECT {', '.join(selected)} FROM {quote(Token._meta.db_table)} t "
        f"JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id WHERE t.key = %s"
    )


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        with prepared_cursor() as cursor:
            cursor.execute(_token_sql(), [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        split = len(columns(Token))
        token = instance(Token, row[:split])
        user = instance(User, row[split:])
        token.user = user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token
