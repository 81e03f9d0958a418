"""ModelSerializers whose fields are built from the model once per process, not per instance.

DRF's ModelSerializer introspects the model on every instance (field kwargs, validators,
labels, choices): about a quarter of the Python time of an API create, where six such
serializers are instantiated (input, output and the nested ones). The built fields depend
only on the class and the active language, so they are built once per (class, language) and
every instance gets its own copies of them (shallow for a plain field, deep for a nested
serializer, as DRF does), so an instance may still change its own fields. The same goes for
the serializer's own validators (unique-together and unique-for-date, read from the model's
options on every instance: a twentieth of an API create's time).
"""

import copy

from django.utils.translation import get_language
from rest_framework.serializers import BaseSerializer, ListSerializer

_built = {}
_validators = {}


def _fresh(field):
    """A new unbound field like `field`. A plain field is a shallow copy of the one built
    for the class: binding it (name, parent, source) sets its own attributes, and its
    validators, choices and messages, which no field changes after it is built, are shared.
    (Building it again from its arguments ran its __init__: validators, choice maps.)
    A nested serializer is copied the same way — the one built for the class is never bound
    nor used, so it holds no fields of its own yet and the copy builds (and binds) its own
    on first use; a list of them (many=True), whose child is bound to its list, and one
    that somehow holds its fields already are deep-copied, so their children are their own."""
    if isinstance(field, BaseSerializer) and (
        isinstance(field, ListSerializer) or "fields" in field.__dict__
    ):
        return copy.deepcopy(field)
    # What copy.copy() does for an object without __copy__ or __reduce__ (DRF's fields have
    # neither), without its generic path: a quarter of the time (24 fields per API create).
    new = object.__new__(type(field))
    new.__dict__.update(field.__dict__)
    return new


class CachedFieldsMixin:
    """For ModelSerializers whose get_fields() depends on nothing but the class (not on the
    request, the instance or the context)."""

    def get_fields(self):
        key = (type(self), get_language())
        fields = _built.get(key)
        if fields is None:
            fields = _built[key] = super().get_fields()
        return {name: _fresh(field) for name, field in fields.items()}

    def get_validators(self):
        key = (type(self), get_language())
        validators = _validators.get(key)
        if validators is None:
            # Validators keep no per-call state (DRF passes the serializer at each call).
            validators = _validators[key] = super().get_validators()
        return list(validators)
