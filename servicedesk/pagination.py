"""API pagination that never counts a whole large table (the case list at a million cases).

The answer keeps DRF's page-number shape — `count`, `next`, `previous`, `results` — and adds
`count_is_exact`. Counting stops at COUNT_CAP rows: beyond it `count` is a lower bound (at
least that many) and `count_is_exact` is false. Whether there is a next page does not come
from the count: the page reads one row more than it shows, so `next` is there whenever more
rows follow, also past the cap, and a client that follows `next` reads everything.

Queries: the page (page_size + 1 rows), plus the capped count when it is not known from the
page itself (a first page that is also the last one, or any last page, counts nothing).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination, remove_query_param, replace_query_param
from rest_framework.response import Response


def capped_count(queryset, cap):
    """(count, exact): the rows of `queryset`, counted up to `cap` — one COUNT over a LIMIT
    cap + 1 subquery, so a list never counts a whole large table. Beyond the cap, (cap,
    False). The admin's case list and the API lists count this way."""
    counted = queryset.order_by()[: cap + 1].count()
    return min(counted, cap), counted <= cap


class CappedCountPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
    COUNT_CAP = 10_000
    # No page links in the browsable API: they would need the page count.
    template = None

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        self.number = self._page_number(request)
        offset = (self.number - 1) * page_size
        rows = list(queryset[offset : offset + page_size + 1])
        self.has_next = len(rows) > page_size
        rows = rows[:page_size]
        if not rows and self.number > 1:
            raise NotFound(self.invalid_page_message)
        seen = offset + len(rows)
        if not self.has_next:
            self.count, self.count_is_exact = seen, True
        elif seen >= self.COUNT_CAP:  # past the cap: more than it, no need to count
            self.count, self.count_is_exact = seen + 1, False
        else:
            counted, self.count_is_exact = capped_count(queryset, self.COUNT_CAP)
            self.count = counted if self.count_is_exact else max(self.COUNT_CAP, seen + 1)
        return rows

    def _page_number(self, request):
        value = request.query_params.get(self.page_query_param) or "1"
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            raise NotFound(self.invalid_page_message)
        return number

    def get_next_link(self):
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number <= 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_is_exact": self.count_is_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count"]["description"] = str(
            _(
                "How many rows match. Counting stops at %(cap)s: when count_is_exact is false "
                "there are at least this many; follow next to read them all."
            )
            % {"cap": f"{self.COUNT_CAP:,}"}
        )
        answer["properties"] = {
            "count": answer["properties"]["count"],
            "count_is_exact": {
                "type": "boolean",
                "description": str(_("false when the count stopped at the cap.")),
            },
            **{k: v for k, v in answer["properties"].items() if k != "count"},
        }
        answer["required"] = ["count", "count_is_exact", "results"]
        return answer
