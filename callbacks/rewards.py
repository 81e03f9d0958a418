"""An optional thank-you reward for answering a survey (001): a coupon code from a list a
manager uploaded, given with the thanks (the thanks page, and an e-mail when the customer has
an address). Off unless SURVEY_REWARD_ENABLED. One code per answer, never twice, and a code
goes to one answer only (claimed under a row lock that skips codes another answer is taking)."""

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class RewardCoupon(models.Model):
    code = models.CharField(gettext_lazy("coupon code"), max_length=64, unique=True)
    batch = models.CharField(gettext_lazy("batch"), max_length=100, blank=True)
    uploaded_at = models.DateTimeField(
        gettext_lazy("uploaded at"), default=timezone.now, editable=False
    )
    response = models.OneToOneField(
        "callbacks.Response",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="reward",
        verbose_name=gettext_lazy("given for"),
    )
    given_at = models.DateTimeField(gettext_lazy("given at"), null=True, blank=True, editable=False)

    class Meta:
        app_label = "callbacks"
        verbose_name = gettext_lazy("thank-you coupon")
        verbose_name_plural = gettext_lazy("thank-you coupons")
        ordering = ["given_at", "pk"]
        indexes = [
            models.Index(
                fields=["id"], name="coupon_unused_idx", condition=models.Q(response__isnull=True)
            )
        ]

    def __str__(self):
        return self.code


def coupons_upload(*, text, batch=""):
    """Add the codes of `text` (one per line; blanks and codes already known ignored).
    Returns the number added."""
    codes = []
    for line in (text or "").splitlines():
        code = line.strip()
        if code and code not in codes:
            codes.append(code[:64])
    known = set(RewardCoupon.objects.filter(code__in=codes).values_list("code", flat=True))
    new = [RewardCoupon(code=c, batch=batch[:100]) for c in codes if c not in known]
    RewardCoupon.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def reward_give(*, response, now=None):
    """Give `response` a coupon if rewards are on and one is left; the coupon or None. Safe to
    call twice: the answer keeps the code it got."""
    if not settings.SURVEY_REWARD_ENABLED:
        return None
    existing = RewardCoupon.objects.filter(response=response).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            coupon = (
                RewardCoupon.objects.select_for_update(skip_locked=True)
                .filter(response__isnull=True)
                .order_by("pk")
                .first()
            )
            if coupon is None:
                return None
            coupon.response, coupon.given_at = response, now or timezone.now()
            coupon.save(update_fields=["response", "given_at"])
    except IntegrityError:  # the same answer rewarded at the same moment elsewhere
        return RewardCoupon.objects.filter(response=response).first()
    customer = response.customer
    if customer.email:
        with translation.override(customer.language):
            message = mail.EmailMessage(
                _("Thank you for your answers"),
                _("Thank you for answering our questions. Your thank-you coupon code: %(code)s")
                % {"code": coupon.code},
                settings.DEFAULT_FROM_EMAIL,
                [customer.email],
            )
        transaction.on_commit(lambda: _send_quietly(message))
    return coupon


def _send_quietly(message):
    # The coupon is on the thanks page whatever happens to the e-mail.
    try:
        message.send()
    except Exception:
        import logging

        logging.getLogger(__name__).warning("thank-you coupon e-mail not sent", exc_info=True)
