"""What intake reads: urgency and routing rules, and the case number sequence."""

import re

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from servicedesk.staff.models import Department

from .choices import CaseType, Category, Urgency

# --- rules -------------------------------------------------------------------------------


def split_keywords(text):
    """Keywords separated by commas (either width), semicolons, 、 or new lines."""
    return [k.strip() for k in re.split(r"[,，;；、\n]+", text or "") if k.strip()]


class UrgencyRule(models.Model):
    """A keyword rule that raises urgency and priority on intake (曝光, 律师, 12315 …)."""

    name = models.CharField(_("name"), max_length=100)
    keywords = models.TextField(
        _("keywords"),
        help_text=_("Separated by commas or new lines; any one matching fires the rule."),
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(
        _("priority at least"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("urgency rule")
        verbose_name_plural = _("urgency rules")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.name

    def matched_keyword(self, text):
        text = (text or "").lower()
        return next((k for k in split_keywords(self.keywords) if k.lower() in text), None)


class RoutingRule(models.Model):
    """Maps type / category / keywords / product to the department that handles the case.
    Rules are tried in order; the first whose every filled condition matches wins."""

    name = models.CharField(_("name"), max_length=100)
    case_type = models.CharField(_("type"), max_length=20, choices=CaseType.choices, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    keywords = models.TextField(
        _("keywords"), blank=True, help_text=_("Any one in the subject or description matches.")
    )
    product = models.CharField(
        _("product contains"),
        max_length=100,
        blank=True,
        help_text=_("Upper and lower case are treated alike."),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    assign_automatically = models.BooleanField(
        _("assign to the least-loaded handler"), default=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.name

    def matches(self, *, case_type, category, text, product):
        if self.case_type and self.case_type != case_type:
            return False
        if self.category and self.category != category:
            return False
        if self.product and self.product.lower() not in (product or "").lower():
            return False
        words = split_keywords(self.keywords)
        return not words or any(w.lower() in (text or "").lower() for w in words)


# --- numbering ---------------------------------------------------------------------------


class CaseNumberSequence(models.Model):
    """The last case number issued per month; the row is locked while a number is taken."""

    period = models.CharField(max_length=6, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case number sequence")
        verbose_name_plural = _("case number sequences")

    def __str__(self):
        return f"{self.period}: {self.last}"
