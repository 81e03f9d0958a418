"""Readable history and text fields for the plan admin.

simple-history's change list shows raw values ("pending_approval", ids, JSON codes), cuts
long texts to "[82 chars]" and counts a save that only changed line endings as a change.
Here each value is shown as the admin shows it (choice labels, names, 是/否), texts in full,
and line-ending-only changes are left out. Text fields in the admin forms also normalise line
endings, so re-saving an unchanged page changes nothing (and makes nobody an editor of a
revision: the four-eyes rule reads the history)."""

import dataclasses
import decimal

from django import forms
from django.db import models
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.timezone import is_aware, localtime
from django.utils.translation import gettext as _
from simple_history.template_utils import HistoricalRecordContextHelper

from . import text
from .models import CASE_TYPE_CHOICES, CATEGORY_CHOICES

# JSON lists of codes, shown by their labels.
CODE_LABELS = {"case_types": dict(CASE_TYPE_CHOICES), "categories": dict(CATEGORY_CHOICES)}


class NormalisedTextField(forms.CharField):
    """A textarea's value with "\\n" line endings: the browser's "\\r\\n" is no change."""

    def to_python(self, value):
        return text.normalise_newlines(super().to_python(value))


# For a ModelAdmin or an inline: the admin's textarea, with line endings normalised.
TEXT_FIELD_OVERRIDES = {models.TextField: {"form_class": NormalisedTextField}}


def display_value(field, value):
    """`value` of model field `field` as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple | set):
        labels = CODE_LABELS.get(field.name, {})
        return "、".join(str(labels.get(v, v)) for v in value) or "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field.choices:  # never a ForeignKey's flatchoices: that would load the whole table
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, decimal.Decimal):
        return f"{value.normalize():f}"
    if hasattr(value, "isoformat") and hasattr(value, "hour"):
        return date_format(localtime(value) if is_aware(value) else value, "Y-m-d H:i")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return text.normalise_newlines(str(value))


class ReadableHistoryHelper(HistoricalRecordContextHelper):
    def context_for_delta_changes(self, delta):
        changes = []
        for change in delta.changes:
            if text.normalise_newlines(change.old) == text.normalise_newlines(change.new):
                continue  # line endings only
            field = self.model._meta.get_field(change.field)
            formatted = dataclasses.replace(
                change,
                field=capfirst(field.verbose_name),
                old=display_value(field, self.prepare_delta_change_value(change, change.old)),
                new=display_value(field, self.prepare_delta_change_value(change, change.new)),
            )
            changes.append({"field": formatted.field, "old": formatted.old, "new": formatted.new})
        return changes


class ReadableHistoryMixin:
    """For a SimpleHistoryAdmin: readable values in the history list, its own template (with
    our translations), and text fields that normalise line endings."""

    object_history_list_template = "knowledge/admin/history_list.html"
    formfield_overrides = TEXT_FIELD_OVERRIDES

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistoryHelper(self.model, historical_record)
