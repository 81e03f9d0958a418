"""The mainland China working-day calendar as data: official holidays and the weekend days
made working days (调休), per year, editable by administrators when the State Council
publishes the next year's schedule. The date maths is in servicedesk/workdays.py."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Official holiday (day off)")
    WORKDAY = "workday", _("Make-up working day (调休)")


class YearSource(models.TextChoices):
    PACKAGE = "package", _("chinese-calendar package")
    MANUAL = "manual", _("Entered by an administrator")


def day_problem(year, date, kind):
    """Why `date` cannot be a `kind` day of calendar year `year`, or None. The one rule for
    the admin inline and the import service."""
    if date.year != year:
        return _("%(date)s is not in %(year)s.") % {"date": date.isoformat(), "year": year}
    if kind == DayKind.WORKDAY and date.weekday() < 5:
        # Make-up working days are always a Saturday or a Sunday; Monday–Friday is a working
        # day anyway, so such a line is almost certainly a typo in the date.
        return _(
            "%(date)s is a Monday–Friday: only a Saturday or Sunday can be a make-up working day."
        ) % {"date": date.isoformat()}
    return None


class CalendarYear(models.Model):
    """A year whose official schedule is loaded. Dates in other years fall back to
    Monday–Friday and their deadlines are marked provisional."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=10, choices=YearSource.choices)
    notes = models.TextField(_("notes"), blank=True)
    loaded_at = models.DateTimeField(_("loaded at"), default=timezone.now)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("loaded by"),
    )

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    """A date that differs from the Monday–Friday rule: a holiday on a weekday (or any day
    of a holiday period), or a weekend day that is a working day."""

    calendar_year = models.ForeignKey(
        CalendarYear,
        on_delete=models.CASCADE,
        related_name="days",
        verbose_name=_("calendar year"),
    )
    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()

    def clean(self):
        if self.date and self.kind and self.calendar_year_id:
            problem = day_problem(self.calendar_year.year, self.date, self.kind)
            if problem:
                raise ValidationError({"date": problem})
