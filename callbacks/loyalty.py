"""客户重复购买率 (003 §7.1), fed by the deliveries (the order system's import): of the customers
who answered a follow-up in the period, the share who received another delivery after their
first answer in the period, up to its end. Two queries' worth of work in one.

The referral rate (客户推荐率) has no data to feed it — nothing records who referred whom — so
it is not computed anywhere (it was removed from callbacks.metrics)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Subquery

from complaints.models import Customer

from . import metrics
from .models import Delivery, Response


@dataclass(frozen=True)
class RepeatPurchase:
    customers: int  # customers who answered in the period
    repeat: int  # of them, bought again after their first answer (before the period's end)

    @property
    def rate(self) -> Decimal | None:
        return metrics.repeat_purchase_rate(self.customers, self.repeat)


def repeat_purchase(start, end):
    """RepeatPurchase of the answers in [start, end) (aware datetimes)."""
    answers = Response.objects.filter(answered_at__gte=start, answered_at__lt=end)
    first_answer = (
        answers.filter(customer=OuterRef("pk")).order_by("answered_at").values("answered_at")[:1]
    )
    bought_again = Delivery.objects.filter(
        customer=OuterRef("pk"), delivered_at__gt=OuterRef("first_answer"), delivered_at__lt=end
    )
    figures = (
        Customer.objects.filter(pk__in=answers.values("customer"))
        .annotate(first_answer=Subquery(first_answer))
        .annotate(again=Exists(bought_again))
        .aggregate(customers=Count("pk"), repeat=Count("pk", filter=Q(again=True)))
    )
    return RepeatPurchase(figures["customers"], figures["repeat"])
