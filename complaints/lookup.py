"""Finding cases by what staff type in the search box of the case list: a case number, a
phone number in any format, its last four digits (尾号), a member or order number, or a piece
of the subject or the customer's name. Every branch is served by an index, so a search costs
the same at a thousand cases and at a million:

- case number: the unique index; order number: `case_order_no_upper_idx` (upper case);
- member number, full phone: the customers' normalised, indexed columns; the last four
  digits: `customer_phone_tail_idx` (RIGHT(phone_normalized, 4));
- subject and customer name, three characters or more: trigram indexes (pg_trgm, PostgreSQL);
  shorter, the subject through the index of its characters and pairs of characters
  (`case_subject_grams`) and a name by its start.

The customers found are read first (one query, at most CUSTOMER_LIMIT of them) so that the
case query is one table's OR of indexed conditions, which PostgreSQL answers with a bitmap OR.

A full phone number finds its customer only for staff who see phone numbers
(`complaints.view_personal_data`): whoever sees `138****8000` cannot confirm the middle digits
by searching them. The last four digits, which they see, they may search.
"""

import re

from django.contrib.postgres.fields import ArrayField
from django.db import connections, router
from django.db.models import Func, Q, TextField, Value
from django.db.models.functions import Cast, Lower, Right, StrIndex, Upper
from django.utils import timezone

from .models import Customer, normalize_member_no, normalize_phone

PERSONAL_DATA = "complaints.view_personal_data"
# A name many customers share (王伟) finds the cases of the newest CUSTOMER_LIMIT of them (a
# phone's last digits narrow it). Kept small so the case query stays a few hundred rows read
# from the customer index: with 500 customers (1,500 cases at a million) PostgreSQL ANDed in
# the visibility bitmap of hundreds of thousands of rows, 50 ms per query instead of 10.
CUSTOMER_LIMIT = 200
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


class SubjectGrams(Func):
    """Every character and every pair of characters of the subject, in upper case: the
    expression of the `case_subject_grams` index (migration 0020, PostgreSQL)."""

    function = "case_subject_grams"
    output_field = ArrayField(TextField())


def _subject_condition(queryset, term):
    """(queryset, condition, pre-test) for a piece of the subject: `condition` is served by an
    index; `pre-test`, when not None, is a cheaper test every match also passes."""
    if len(term) >= TRIGRAM_MIN or not _postgres(queryset.model):
        return queryset, Q(subject__icontains=term), None
    # Too short for a trigram: the term is one element of the subject's characters and pairs
    # of characters (exact for one or two characters). Their statistics say how common it is,
    # so the planner walks the newest cases for a common word (闪退) and reads the index for a
    # rare one.
    # And a plain position test, in lower case, which no index holds (the trigram index, upper
    # case, would otherwise be ANDed in: for a term too short for trigrams it returns half the
    # table, 240 ms at 1M cases). A row read in the order of the list is tested by it first,
    # and only a row that holds the term computes its characters. strpos(…) > 0 and not LIKE
    # '%…%': the planner guesses a LIKE on an expression it has no statistics for matches
    # 0.5 % of rows and multiplies that into the index's own (right) estimate, so it took 闪退
    # (5 % of cases) for a handful of rows and sorted all 5,000 of them instead of walking the
    # newest (87 → 13 ms for the page at 1M); a comparison it guesses at a third.
    queryset = queryset.alias(
        subject_grams=SubjectGrams(Cast("subject", TextField())),
        subject_at=StrIndex(Lower("subject"), Value(term.lower())),
    )
    return queryset, Q(subject_grams__contains=[term.upper()]), Q(subject_at__gt=0)


def case_search(queryset, term, *, user):
    """`queryset` (of cases) narrowed to those the search term finds for `user`."""
    term = (term or "").strip()
    if not term:
        return queryset
    others = Q(number=term.upper()) | Q(order_no_upper=normalize_member_no(term))
    queryset = queryset.alias(order_no_upper=Upper("order_no"))
    customers = matching_customers(term, user=user)
    if customers:
        others |= Q(customer_id__in=customers)
    if phone_tail(term) or _PHONE_LIKE.match(term):
        return queryset.filter(others)
    queryset, subject, pretest = _subject_condition(queryset, term)
    if pretest is None:
        return queryset.filter(others | subject)
    # Two conditions, each an OR of the same branches: the first all indexed (a bitmap OR, no
    # test of its own left to run on the rows it finds), the second cheap. Written as one OR
    # with (pre-test AND index condition) in a branch, every row the count reads computed the
    # subject's characters again (~20 of its 60 ms at 1M); PostgreSQL runs the cheaper of the
    # two first on the rows it walks for the page.
    return queryset.filter(others | subject).filter(others | pretest)


# --- quick intake: who is calling? -------------------------------------------------------

OPEN_CASES_SHOWN = 5
MEMBER_NO_MIN = 3


def intake_keys(*, phone="", member_no="", email="", user):
    """The contact details quick intake may recognise a customer by, for `user`: the member
    number always; the phone and the e-mail only for staff who see them (the same rule as the
    case search), and only once they are complete enough to name one customer."""
    keys = {"member_no": "", "phone": "", "email": ""}
    if len(normalize_member_no(member_no)) >= MEMBER_NO_MIN:
        keys["member_no"] = member_no
    if sees_phone_numbers(user):
        if 5 <= len(normalize_phone(phone)) <= 15:
            keys["phone"] = phone
        if "@" in (email or "") and "." in email.rsplit("@", 1)[-1]:
            keys["email"] = email
    return keys


def known_customer(*, phone="", member_no="", email="", user):
    """The customer quick intake would attach a contact to, as `user` may learn it, or None.
    One query (none when nothing is complete enough), through the normalised indexed
    columns: the same matching as services.customer_find."""
    from .services import customer_find

    keys = intake_keys(phone=phone, member_no=member_no, email=email, user=user)
    if not any(keys.values()):
        return None
    return customer_find(**keys)


def _searched(*, phone, member_no, email, user):
    keys = intake_keys(phone=phone, member_no=member_no, email=email, user=user)
    return any(keys.values())


def intake_lookup(*, phone="", member_no="", email="", user):
    """What the intake form shows while the phone (member number, e-mail) is typed: the known
    customer (name, tier, preferred channel, the phone masked) and their open cases this user
    may see, with the type and category of their latest case to pre-fill. At most four
    queries, whatever the number of customers and cases."""
    from .models import ACTIVE_STATES, Case

    customer = known_customer(phone=phone, member_no=member_no, email=email, user=user)
    if customer is None:
        # `searched`: the details were complete enough to look for somebody (a new customer).
        searched = _searched(phone=phone, member_no=member_no, email=email, user=user)
        return {"found": False, "searched": searched}
    open_cases = Case.objects.filter(customer=customer, state__in=ACTIVE_STATES)
    visible = list(
        open_cases.visible_to(user)
        .order_by("-created_at")
        .values("pk", "number", "subject", "state", "created_at", "type", "category")[
            :OPEN_CASES_SHOWN
        ]
    )
    latest = (
        Case.objects.filter(customer=customer)
        .exclude(type="return_exchange")
        .order_by("-created_at")
        .values("type", "category")
        .first()
        if customer.has_cases
        else None
    )
    open_count = open_cases.count() if customer.has_cases else 0
    labels = dict(Case._meta.get_field("state").choices)
    return {
        "found": True,
        "searched": True,
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "tier": customer.get_tier_display(),
            "tier_code": customer.tier,
            "preferred_contact": customer.get_preferred_contact_display(),
            "preferred_contact_code": customer.preferred_contact,
            "kind_code": customer.kind,
            "phone": customer.phone_masked,
        },
        "open_cases": [
            {
                "number": c["number"],
                "subject": c["subject"],
                "state": str(labels.get(c["state"], c["state"])),
                "received": timezone.localtime(c["created_at"]).strftime("%Y-%m-%d"),
                "pk": c["pk"],
            }
            for c in visible
        ],
        "open_count": open_count,
        # Open cases not listed: older ones, or of departments this user does not see.
        "open_more": max(open_count - len(visible), 0),
        "last_type": latest["type"] if latest else "",
        "last_category": latest["category"] if latest else "",
    }
