"""The case list's table: Django's `result_list` tag with the rows written directly
(complaints/admin_list_rows.py)."""

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_hidden_fields
from django.contrib.admin.templatetags.base import InclusionAdminNode

from complaints.admin_list_rows import rows

register = template.Library()


def case_result_list(cl):
    """What Django's `result_list(cl)` returns, the rows from `rows(cl)`."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": rows(cl),
    }


@register.tag(name="case_result_list")
def case_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=case_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
