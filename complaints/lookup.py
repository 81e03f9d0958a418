"""Finding cases by what staff type in the search box of the case list: a case number, a
phone number in any format, its last four digits (尾号), a member or order number, or a piece
of the subject or the customer's name. Every branch is served by an index, so a search costs
the same at a thousand cases and at a million:

- case number: the unique index; order number: `case_order_no_upper_idx` (upper case);
- member number, full phone: the customers' normalised, indexed columns; the last four
  digits: `customer_phone_tail_idx` (RIGHT(phone_normalized, 4));
- subject and customer name, three characters or more: trigram indexes (pg_trgm, PostgreSQL);
  shorter, a subject word through the full-text index of the case and a name by its start.

The customers found are read first (one query, at most CUSTOMER_LIMIT of them) so that the
case query is one table's OR of indexed conditions, which PostgreSQL answers with a bitmap OR.

A full phone number finds its customer only for staff who see phone numbers
(`complaints.view_personal_data`): whoever sees `138****8000` cannot confirm the middle digits
by searching them. The last four digits, which they see, they may search.
"""

import re

from django.db import connections, router
from django.db.models import Q
from django.db.models.functions import Right, Upper

from knowledge import text

from .models import Customer, normalize_member_no, normalize_phone

PERSONAL_DATA = "complaints.view_personal_data"
CUSTOMER_LIMIT = 500
TRIGRAM_MIN = 3
_TAIL = re.compile(r"^(?:尾号|尾號)?\s*(\d{4})$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s()\-]{5,}$")


def sees_phone_numbers(user):
    return user.has_perm(PERSONAL_DATA)


def phone_tail(term):
    """'8000' or '尾号8000' -> '8000'; anything else -> None."""
    match = _TAIL.match(term.strip())
    return match.group(1) if match else None


def matching_customers(term, *, user):
    """Ids of the customers the term names (member number, phone or its tail, name), at most
    CUSTOMER_LIMIT. One query, or none when the term can name no customer."""
    term = term.strip()
    condition = Q(member_no_normalized=normalize_member_no(term))
    tail = phone_tail(term)
    customers = Customer.objects.all()
    if tail:
        customers = customers.alias(phone_tail=Right("phone_normalized", 4))
        condition |= Q(phone_tail=tail)
    elif _PHONE_LIKE.match(term):
        if sees_phone_numbers(user):
            condition |= Q(phone_normalized=normalize_phone(term))
    else:
        condition |= _name_condition(term, customers.model)
    return list(customers.filter(condition).values_list("pk", flat=True)[:CUSTOMER_LIMIT])


def _postgres(model):
    return connections[router.db_for_read(model)].vendor == "postgresql"


def _name_condition(term, model):
    if len(term) >= TRIGRAM_MIN or not _postgres(model):
        return Q(name__icontains=term)  # the trigram index on PostgreSQL
    return Q(name__startswith=term)  # the prefix index: 张三, 王


def _subject_condition(queryset, term):
    """(queryset, condition) for a piece of the subject."""
    if len(term) >= TRIGRAM_MIN or not _postgres(queryset.model):
        return queryset, Q(subject__icontains=term)
    # Too short for a trigram: the words of the term through the case's full-text index,
    # then the subject itself.
    from django.contrib.postgres.search import SearchQuery, SearchVector

    words = text.tokenize(term)
    if not words:
        return queryset, Q(pk__in=[])
    query = SearchQuery(words[0], config="simple")
    for word in words[1:]:
        query &= SearchQuery(word, config="simple")
    queryset = queryset.alias(search_vector=SearchVector("search_text", config="simple"))
    return queryset, Q(search_vector=query, subject__contains=term)


def case_search(queryset, term, *, user):
    """`queryset` (of cases) narrowed to those the search term finds for `user`."""
    term = (term or "").strip()
    if not term:
        return queryset
    condition = Q(number=term.upper()) | Q(order_no_upper=normalize_member_no(term))
    queryset = queryset.alias(order_no_upper=Upper("order_no"))
    if not phone_tail(term) and not _PHONE_LIKE.match(term):
        queryset, subject = _subject_condition(queryset, term)
        condition |= subject
    customers = matching_customers(term, user=user)
    if customers:
        condition |= Q(customer_id__in=customers)
    return queryset.filter(condition)
