"""客户重复购买率 (003 §7.1), fed by the deliveries (the order system's import): of the customers
who answered a follow-up in the period, the share who received another delivery after their
first answer in the period, up to its end.

The referral rate (客户推荐率) has no data to feed it — nothing records who referred whom — so
it is not computed anywhere (it was removed from callbacks.metrics)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef

from . import metrics
from .models import Delivery, Response


@dataclass(frozen=True)
class RepeatPurchase:
    customers: int  # customers who answered in the period
    repeat: int  # of them, bought again after their first answer (before the period's end)

    @property
    def rate(self) -> Decimal | None:
        return metrics.repeat_purchase_rate(self.customers, self.repeat)


def repeat_purchase(start, end, *, customers=None):
    """RepeatPurchase of the answers in [start, end) (aware datetimes). `customers`: the
    distinct customers who answered in it, when the caller has counted them already (the
    satisfaction summary's customers_surveyed); otherwise counted here.

    A customer bought again if one of their deliveries in the period came after one of their
    answers in it — after the first, that is. So the deliveries of the period are read (an
    index range scan), each with a probe of its customer's answers: the cost follows the
    deliveries, not every customer who answered."""
    answers = Response.objects.filter(answered_at__gte=start, answered_at__lt=end)
    if customers is None:
        customers = answers.aggregate(n=Count("customer", distinct=True))["n"]
    answered_before = answers.filter(
        customer=OuterRef("customer"), answered_at__lt=OuterRef("delivered_at")
    )
    repeat = (
        Delivery.objects.filter(delivered_at__gt=start, delivered_at__lt=end)
        .filter(Exists(answered_before))
        .aggregate(n=Count("customer", distinct=True))["n"]
    )
    return RepeatPurchase(customers, repeat)
