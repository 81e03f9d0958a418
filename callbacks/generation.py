"""Periodic follow-ups, deliveries and samples: followups_generate and sample_create."""

import calendar
import datetime
import logging
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import (
    Customer,
)
from servicedesk import workdays
from servicedesk.calendar.services import calendar_missing_year_warn, load_calendar

from . import sampling
from .models import (
    Delivery,
    FollowUp,
    FollowUpPlan,
    FollowUpPlanKind,
    FollowUpPurpose,
    FollowUpStatus,
    Sample,
)
from .surveys import satisfaction_version

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Periodic follow-ups and deliveries
#
# followups_generate (hourly) turns the active FollowUpPlans into calls for the queue; the
# unique keys (plan, customer, period) and the one-to-one delivery make it idempotent, also
# when two runs overlap. sample_create draws a stratified sample (sampling.py) and queues it.


#: Customers (or deliveries) handled per batch: each batch costs a constant number of queries.
FOLLOWUP_BATCH_SIZE = 500
#: A delivery older than this that has no follow-up yet is left alone (an import of old
#: orders, a plan switched on late) rather than flooding the queue with overdue calls.
DELIVERY_LOOKBACK_DAYS = 30
_INSERT_BATCH = 250
_SEED_LIMIT = 2**63  # Sample.seed is a BigIntegerField


def _contactable(prefix=""):
    """Customers a call can go to: not anonymised, with a phone number or an e-mail."""
    return Q(**{f"{prefix}anonymized_at__isnull": True}) & (
        ~Q(**{f"{prefix}phone": ""}) | ~Q(**{f"{prefix}email": ""})
    )


def plan_period(*, day, every_months):
    """The period of a plan repeating every `every_months` months that contains the local date
    `day`: (key, first day, first day of the next period).

    Keys: 2026-12 monthly, 2026-Q4 quarterly, 2026-H2 half-yearly, 2026 yearly. Any other
    interval cuts the months into blocks counted from January of year 0 — aligned with the
    year when it divides 12 — keyed by the block's first month (2026-11).
    """
    n = int(every_months)
    if n < 1:
        raise ValueError("every_months must be at least 1")
    first = (day.year * 12 + day.month - 1) // n * n
    start = datetime.date(first // 12, first % 12 + 1, 1)
    following = datetime.date((first + n) // 12, (first + n) % 12 + 1, 1)
    if n == 3:
        key = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    elif n == 6:
        key = f"{start.year}-H{(start.month - 1) // 6 + 1}"
    elif n == 12:
        key = str(start.year)
    else:
        key = f"{start.year}-{start.month:02d}"
    return key, start, following


def _months_back(moment, months):
    """The same local time `months` calendar months earlier (the 31st becomes the month's
    last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _plan_version(plan, fallback):
    """The questionnaire version a plan's calls use: its questionnaire's published version
    (None when it has none or is inactive), else the satisfaction questionnaire's."""
    if plan.questionnaire_id is None:
        return fallback()
    if not plan.questionnaire.is_active:
        return None
    return plan.questionnaire.published_version()


def _warn_if_provisional(deadline):
    if deadline.provisional:
        calendar_missing_year_warn(years=deadline.missing_years)


def _periodic_followups(*, plan, version, now, cal, batch_size):
    """One plan's calls for the current period. A customer is skipped — and picked up by a
    later hourly run once the reason is gone — while they:
    * already have this plan's call for this period (whatever became of it);
    * were reached in a completed follow-up of any purpose within the plan's interval (a
      quarterly customer called on 28 September is next called from 28 December, still
      inside Q4: every period gets a contact, and nobody is called twice in a few days);
    * have a call of any purpose still waiting that is due before the period ends (one
      open call at a time; an overdue one is already in the queue).
    """
    local = timezone.localtime(now)
    key, _start, following = plan_period(day=local.date(), every_months=plan.every_months)
    period_end = datetime.datetime.combine(following, datetime.time.min, tzinfo=local.tzinfo)
    reached_since = _months_back(local, plan.every_months)
    # Due at once, or at the next business morning when run at night or on a day off.
    due = workdays.add_working_days(now, 0, cal)
    _warn_if_provisional(due)
    customers = Customer.objects.filter(_contactable(), tier=plan.tier).order_by("pk")
    created, last = 0, 0
    while True:
        ids = list(customers.filter(pk__gt=last).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        last = ids[-1]
        busy = set(
            FollowUp.objects.filter(customer_id__in=ids)
            .filter(
                Q(plan=plan, period=key)
                | Q(status=FollowUpStatus.DONE, completed_at__gte=reached_since)
                | Q(status=FollowUpStatus.PENDING, due_at__lt=period_end)
            )
            .values_list("customer_id", flat=True)
        )
        rows = [
            FollowUp(
                customer_id=pk, purpose=FollowUpPurpose.PERIODIC, plan=plan, period=key,
                version=version, due_at=due.at, created_at=now,
                max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
            )
            for pk in ids
            if pk not in busy
        ]  # fmt: skip
        if rows:
            # ignore_conflicts: a run overlapping this one may have inserted some already.
            FollowUp.objects.bulk_create(rows, batch_size=_INSERT_BATCH, ignore_conflicts=True)
            created += FollowUp.objects.filter(
                plan=plan, period=key, created_at=now, customer_id__in=[r.customer_id for r in rows]
            ).count()
        if len(ids) < batch_size:
            break
    return created


def _delivery_followups(*, plan, version, now, cal, batch_size):
    """The first call after each recent delivery, due `working_days_after_delivery` working
    days after it (the handbook: 交付后X个工作日内首次回访)."""
    days = plan.working_days_after_delivery
    deliveries = Delivery.objects.filter(
        _contactable("customer__"),
        followup__isnull=True,
        delivered_at__gte=now - datetime.timedelta(days=DELIVERY_LOOKBACK_DAYS),
        delivered_at__lte=now,
    ).order_by("pk")
    created, last = 0, 0
    while True:
        batch = list(
            deliveries.filter(pk__gt=last).values_list("pk", "customer_id", "delivered_at")[
                :batch_size
            ]
        )
        if not batch:
            break
        last = batch[-1][0]
        rows = []
        for pk, customer_id, delivered_at in batch:
            due = workdays.add_working_days(delivered_at, days, cal)
            _warn_if_provisional(due)
            rows.append(
                FollowUp(
                    customer_id=customer_id, purpose=FollowUpPurpose.DELIVERY, delivery_id=pk,
                    plan=plan, version=version, due_at=due.at, created_at=now,
                    max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
                )
            )  # fmt: skip
        FollowUp.objects.bulk_create(rows, batch_size=_INSERT_BATCH, ignore_conflicts=True)
        created += FollowUp.objects.filter(
            delivery_id__in=[pk for pk, _customer, _at in batch], created_at=now
        ).count()
        if len(batch) < batch_size:
            break
    return created


def followups_generate(*, now=None, batch_size=None):
    """Create the follow-up calls due under the active plans: after-delivery calls first
    (a waiting delivery call then also stands for the periodic one), then each tier's call
    for the current period. Idempotent — FollowUp's unique keys and the one-to-one delivery,
    with inserts that ignore conflicts, make a second or concurrent run create nothing new.

    Returns {"delivery": n, "periodic": n, "skipped_plans": n}; a plan is skipped (and logged)
    when it is incomplete or its questionnaire has no published version.
    """
    now = now or timezone.now()
    batch_size = batch_size or FOLLOWUP_BATCH_SIZE
    counts = {"delivery": 0, "periodic": 0, "skipped_plans": 0}
    plans = list(
        # Only plans a manager approved generate calls (003).
        FollowUpPlan.objects.filter(is_active=True, approved_at__isnull=False)
        .select_related("questionnaire")
        .order_by("kind", "pk")
    )
    if not plans:
        return counts
    satisfaction = []

    def fallback():
        if not satisfaction:
            satisfaction.append(satisfaction_version())
        return satisfaction[0]

    cal = load_calendar()
    delivery_done = False
    for plan in plans:
        version = _plan_version(plan, fallback)
        if plan.kind == FollowUpPlanKind.DELIVERY:
            usable = plan.working_days_after_delivery is not None and not delivery_done
        else:
            # Plans are checked in the admin; a hand-edited row must not stop the others.
            usable = bool(plan.tier) and 1 <= (plan.every_months or 0) <= 1200
        if not usable or version is None:
            logger.warning(
                "Follow-up plan %s (%s) skipped: %s", plan.pk, plan.name,
                "no published questionnaire version" if usable else "incomplete or duplicate",
            )  # fmt: skip
            counts["skipped_plans"] += 1
            continue
        if plan.kind == FollowUpPlanKind.DELIVERY:
            delivery_done = True  # one call per delivery: the first active plan makes it
            counts["delivery"] += _delivery_followups(
                plan=plan, version=version, now=now, cal=cal, batch_size=batch_size
            )
        else:
            counts["periodic"] += _periodic_followups(
                plan=plan, version=version, now=now, cal=cal, batch_size=batch_size
            )
    return counts


# --- sampling ------------------------------------------------------------------------------


def _parse_limits(value, default, *, whole):
    """Band limits from a list or a "1000, 10000" string; ValueError when unusable."""
    if value is None or value == "":
        return default
    if isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = [p for p in str(value).replace("，", ",").split(",") if p.strip()]
    try:
        numbers = [Decimal(str(p).strip()) for p in parts]
    except InvalidOperation as exc:
        raise ValueError(str(exc)) from exc
    if not numbers or any(not n.is_finite() for n in numbers):
        raise ValueError("empty")
    if whole:
        if any(n != n.to_integral_value() for n in numbers):
            raise ValueError("not whole")
        numbers = [int(n) for n in numbers]
    return sampling.check_limits(numbers)


def _int(value):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def sample_create(
    *,
    name,
    size,
    min_new_share,
    new_within_days,
    user,
    seed=None,
    questionnaire=None,
    due_at=None,
    amount_limits=None,
    count_limits=None,
    now=None,
):
    """Draw a stratified sample of the contactable customers and queue a call for each.

    Strata: customer type × purchase amount band × purchase frequency band (sampling.py;
    `amount_limits` in yuan and `count_limits` in orders, defaults 1000/10000 and 2/6). A
    customer is new when first seen within `new_within_days`; at least `min_new_share` (0..1)
    of the sample are new when there are enough. The seed (random when None) is stored: the
    same seed and the same population give the same sample. The calls use `questionnaire`'s
    published version (default: the satisfaction questionnaire) and are due at `due_at`
    (default now). Raises ValidationError keyed by argument name; nothing is saved then.
    """
    now = now or timezone.now()
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the sample a name.")]
    elif len(name) > Sample._meta.get_field("name").max_length:
        errors["name"] = [_("The name is too long.")]
    size = _int(size)
    if size is None or size < 1:
        errors["size"] = [_("The sample size must be a whole number of at least 1.")]
    try:
        share = Decimal(str(min_new_share).strip()).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    except (InvalidOperation, TypeError, ValueError):
        share = None
    if share is None or not share.is_finite() or not 0 <= share <= 1:
        errors["min_new_share"] = [_("Enter a share between 0 and 1 (0.20 = 20 %).")]
    new_within_days = _int(new_within_days)
    if new_within_days is None or not 0 <= new_within_days <= 32767:
        errors["new_within_days"] = [_("Enter a number of days between 0 and 32767.")]
    if seed is None or seed == "":
        seed = secrets.randbelow(_SEED_LIMIT)
    else:
        seed = _int(seed)
        if seed is None or not -_SEED_LIMIT <= seed < _SEED_LIMIT:
            errors["seed"] = [_("The seed must be a whole number (up to 19 digits).")]
    try:
        amount_limits = _parse_limits(amount_limits, sampling.DEFAULT_AMOUNT_LIMITS, whole=False)
    except ValueError:
        errors["amount_limits"] = [
            _("Enter ascending amounts in yuan separated by commas, e.g. 1000, 10000.")
        ]
    try:
        count_limits = _parse_limits(count_limits, sampling.DEFAULT_COUNT_LIMITS, whole=True)
    except ValueError:
        errors["count_limits"] = [
            _("Enter ascending whole numbers of orders separated by commas, e.g. 2, 6.")
        ]
    if questionnaire is not None:
        version = questionnaire.published_version() if questionnaire.is_active else None
        if version is None:
            errors["questionnaire"] = [
                _("This questionnaire is not in use: it is inactive or has no published version.")
            ]
    else:
        version = satisfaction_version()
        if version is None:
            errors["questionnaire"] = [
                _("There is no published satisfaction questionnaire: choose a questionnaire.")
            ]
    if errors:
        raise ValidationError(errors)

    cutoff = now - datetime.timedelta(days=new_within_days)
    rows = (
        Customer.objects.filter(_contactable())
        .order_by("pk")
        .values_list("pk", "kind", "purchase_amount", "purchase_count", "created_at")
    )
    candidates = [
        sampling.Candidate(id=pk, kind=kind, amount=amount, count=count, is_new=first >= cutoff)
        for pk, kind, amount, count, first in rows.iterator(chunk_size=2000)
    ]
    if not candidates:
        raise ValidationError(_("There are no customers to sample."), code="empty")
    result = sampling.draw(
        candidates, size, seed=seed, min_new_share=share,
        amount_limits=amount_limits, count_limits=count_limits,
    )  # fmt: skip
    due_at = due_at or now
    with transaction.atomic():
        sample = Sample.objects.create(
            name=name, size=size, seed=seed, min_new_share=share,
            new_within_days=new_within_days, population=result.population,
            strata=result.strata, questionnaire=version.questionnaire, due_at=due_at,
            created_by=user, created_at=now,
        )  # fmt: skip
        FollowUp.objects.bulk_create(
            [
                FollowUp(
                    customer_id=pk, purpose=FollowUpPurpose.SAMPLE, sample=sample,
                    version=version, due_at=due_at, created_at=now,
                    max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
                )
                for pk in result.ids
            ],
            batch_size=_INSERT_BATCH,
        )  # fmt: skip
    return sample
