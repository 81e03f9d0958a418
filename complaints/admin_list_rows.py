"""The case list's rows, written directly: the same HTML as Django's admin
(`admin_list.items_for_result`), in a fraction of its time.

For each cell Django resolves the column by name again (a model field lookup that fails for
every column here: they are all functions), builds its CSS class and wraps it through two
format_html calls — ~40 % of rendering a 50-row page. Here a column is resolved once per page
and each cell written with one format string. Only what the case list uses is supported —
columns that are functions (ModelAdmin methods or callables) and link columns, no editable
columns nor popups — anything else is left to Django (`rows()` returns Django's own rows).
tests/complaints/test_admin_list_rows.py holds the output to Django's byte for byte."""

import datetime

from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _coerce_field_name,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_value
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe


def _columns(cl):
    """[(function, css class, empty value, boolean, is a link, th or td)] or None when a
    column is not a function (then Django renders the rows)."""
    admin = cl.model_admin
    if cl.formset or cl.is_popup or cl.to_field or not cl.list_display_links:
        return None
    columns, linked = [], False
    default_empty = admin.get_empty_value_display()
    for index, name in enumerate(cl.list_display):
        if callable(name):
            function = name
        elif isinstance(name, str) and name != "__str__" and hasattr(admin, name):
            function = getattr(admin, name)
            if not callable(function):
                return None
        else:
            return None  # a model field or attribute: Django's own
        link = name in cl.list_display_links
        # The first link column is the row's header (th), as Django writes it.
        tag = "th" if link and not linked else "td"
        linked = linked or link
        css = (
            "action-checkbox"
            if name == "action_checkbox"
            else f"field-{_coerce_field_name(name, index)}"
        )
        columns.append(
            (
                function,
                css,
                getattr(function, "empty_value_display", default_empty),
                getattr(function, "boolean", False),
                link,
                tag,
            )
        )
    return columns if linked else None


def rows(cl):
    """The rows of Django's `results(cl)` (one ResultList of cells per case)."""
    columns = _columns(cl)
    if columns is None:
        return list(results(cl))
    preserved = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
    out = []
    for result in cl.result_list:
        cells = []
        for function, css, empty, boolean, link, tag in columns:
            value = function(result)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            text = conditional_escape(display_for_value(value, empty, boolean))
            dated = isinstance(value, (datetime.date, datetime.time))
            classes = f"{css} nowrap" if dated else css
            if link:
                url = conditional_escape(
                    add_preserved_filters(preserved, cl.url_for_result(result))
                )
                text = f'<a href="{url}">{text}</a>'
            cells.append(mark_safe(f'<{tag} class="{classes}">{text}</{tag}>'))
        out.append(ResultList(None, cells))
    return out
