"""Customers, and how their contact details are normalised, masked and shown."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Right
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicedesk import customer_language, prepared

from .choices import ContactMethod, CustomerKind, CustomerTier

# --- normalisation and masking ----------------------------------------------------------

_NON_DIGIT = re.compile(r"\D+")


def normalize_phone(value):
    """Digits only, without the +86 / 0086 country prefix: '+86 138-0013-8000' -> '13800138000'."""
    digits = _NON_DIGIT.sub("", value or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def normalize_email(value):
    return (value or "").strip().lower()


def normalize_member_no(value):
    return re.sub(r"\s+", "", value or "").upper()


def mask_phone(value):
    """'13800138000' -> '138****8000'; short numbers keep only their last two digits."""
    if not value:
        return ""
    v = value.strip()
    if len(v) >= 7:
        return f"{v[:3]}****{v[-4:]}"
    return "*" * max(len(v) - 2, 0) + v[-2:]


def display_phone(value, *, masked=False):
    """One form for every phone shown: a mainland mobile as '138 1234 5678' ('138 **** 5678'
    masked), whatever was typed (+86 138-1234-5678, 13812345678); other numbers as typed
    (mask_phone when masked)."""
    digits = normalize_phone(value)
    if len(digits) == 11 and digits.startswith("1"):
        middle = "****" if masked else digits[3:7]
        return f"{digits[:3]} {middle} {digits[7:]}"
    return mask_phone(value) if masked else (value or "").strip()


def mask_email(value):
    """'zhangsan@example.com' -> 'zh***@example.com'."""
    if not value or "@" not in value:
        return value or ""
    local, domain = value.split("@", 1)
    return f"{local[:2]}***@{domain}"


# --- customers ---------------------------------------------------------------------------


class Customer(models.Model):
    """A customer as we know them across channels; matched by normalised phone, e-mail or
    member number. Never deleted: anonymised on request or after retention (PIPL)."""

    name = models.CharField(_("name"), max_length=100)
    member_no = models.CharField(_("member number"), max_length=40, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_contact = models.CharField(
        _("preferred contact method"),
        max_length=10,
        choices=ContactMethod.choices,
        default=ContactMethod.PHONE,
    )
    # The language we write to them in and serve their pages in (004: multilingual service).
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=customer_language.choices,
        default="zh-hans",
        help_text=_("Surveys and replies to this customer are sent in this language."),
    )
    kind = models.CharField(
        _("customer type"),
        max_length=12,
        choices=CustomerKind.choices,
        default=CustomerKind.INDIVIDUAL,
    )
    tier = models.CharField(
        _("customer tier"),
        max_length=12,
        choices=CustomerTier.choices,
        default=CustomerTier.ORDINARY,
    )
    company = models.CharField(_("company"), max_length=200, blank=True)
    # From the order system; they place the customer in the follow-up sampling strata.
    purchase_amount = models.DecimalField(
        _("purchases in the last 12 months (yuan)"), max_digits=14, decimal_places=2, default=0
    )
    purchase_count = models.PositiveIntegerField(_("orders in the last 12 months"), default=0)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    phone_normalized = models.CharField(max_length=32, blank=True, editable=False, db_index=True)
    email_normalized = models.CharField(max_length=254, blank=True, editable=False, db_index=True)
    member_no_normalized = models.CharField(
        max_length=40, blank=True, editable=False, db_index=True
    )
    created_at = models.DateTimeField(_("first contact"), default=timezone.now, editable=False)
    anonymized_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at"]
        indexes = [
            # Periodic follow-ups walk one tier's customers in id order.
            models.Index(fields=["tier", "id"], name="customer_tier_idx"),
            # Search by the last four digits of the phone (尾号): complaints/lookup.py.
            models.Index(Right("phone_normalized", 4), name="customer_phone_tail_idx"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.derive_keys()
        if self._state.adding and self.pk is None and not args and not kwargs:
            # A new customer: one prepared INSERT, as for a new case (servicedesk/prepared.py);
            # nothing listens to a customer's post_save. (Intake's go in with their first
            # case, in its statement: Case.save_new.)
            prepared.insert([self])
        else:
            super().save(*args, **kwargs)

    def derive_keys(self):
        """The derived matching keys, in step with what they are derived from: save() sets
        them; so does whoever inserts a customer another way (intake, with its case)."""
        self.phone_normalized = normalize_phone(self.phone)
        self.email_normalized = normalize_email(self.email)
        self.member_no_normalized = normalize_member_no(self.member_no)

    def clean(self):
        if self.phone and not 5 <= len(normalize_phone(self.phone)) <= 15:
            raise ValidationError({"phone": _("Enter a valid phone number.")})
        if not (self.phone or self.email or self.member_no):
            raise ValidationError(
                _("Give at least one way to reach the customer: phone, e-mail or member number.")
            )

    @property
    def phone_masked(self):
        return mask_phone(self.phone)

    @property
    def email_masked(self):
        return mask_email(self.email)
