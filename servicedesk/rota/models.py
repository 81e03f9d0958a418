"""The duty rota (排班): shifts, who works which shift on which day in a department, leave
and other absence, and each person's backup (B角).

It sits beside staff and the calendar, below complaints, so routing and escalation can ask
"who is on duty now" with one queryset condition (`on_duty_q`) and no hook.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A department (or, for the supervisors' check, a person) with no rota entry this close to
# today keeps no rota: its members count as on duty unless absent, as before rotas existed.
ROTA_HORIZON_DAYS = 7


class Shift(models.Model):
    name = models.CharField(_("name"), max_length=50)
    start = models.TimeField(_("starts"))
    end = models.TimeField(
        _("ends"), help_text=_("An end at or before the start means the shift ends the next day.")
    )
    department = models.ForeignKey(
        "staff.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shifts",
        verbose_name=_("department"),
        help_text=_("Empty: every department may use it."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["start", "name"]

    def __str__(self):
        return f"{self.name} {self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def crosses_midnight(self):
        return self.end <= self.start

    @property
    def hours(self):
        start = datetime.datetime.combine(datetime.date.min, self.start)
        end = datetime.datetime.combine(datetime.date.min, self.end)
        if self.crosses_midnight:
            end += datetime.timedelta(days=1)
        return (end - start).total_seconds() / 3600

    def span(self, day, tz=None):
        """(start, end) of this shift worked on `day`, aware in the local time zone."""
        tz = tz or timezone.get_current_timezone()
        start = datetime.datetime.combine(day, self.start, tzinfo=tz)
        end = datetime.datetime.combine(
            day + datetime.timedelta(days=1) if self.crosses_midnight else day, self.end, tzinfo=tz
        )
        return start, end


class RotaEntryQuerySet(models.QuerySet):
    def covering(self, moment):
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)

    def near(self, moment):
        today = timezone.localtime(moment).date()
        horizon = datetime.timedelta(days=ROTA_HORIZON_DAYS)
        return self.filter(date__range=(today - horizon, today + horizon))


class RotaEntry(models.Model):
    """One person working one shift on one day for one department. `starts_at`/`ends_at` are
    the shift's span that day (set by services.rota_entry_set), so "on duty now" is an
    indexed range test whatever the shift."""

    department = models.ForeignKey(
        "staff.Department",
        on_delete=models.PROTECT,
        related_name="rota_entries",
        verbose_name=_("department"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="rota_entries",
        verbose_name=_("staff member"),
    )
    date = models.DateField(_("date"))
    shift = models.ForeignKey(
        Shift, on_delete=models.PROTECT, related_name="entries", verbose_name=_("shift")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    objects = RotaEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("rota entry")
        verbose_name_plural = _("rota entries")
        ordering = ["date", "starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="rota_one_shift_per_day")
        ]
        indexes = [
            models.Index(fields=["user", "starts_at", "ends_at"], name="rota_user_span_idx"),
            models.Index(fields=["department", "date"], name="rota_department_date_idx"),
        ]

    def __str__(self):
        return f"{self.date} {self.user} {self.shift.name}"


class AbsenceKind(models.TextChoices):
    LEAVE = "leave", _("Leave")
    SICK = "sick", _("Sick leave")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other absence")


class AbsenceQuerySet(models.QuerySet):
    def current(self, moment):
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)


class Absence(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="absences",
        verbose_name=_("staff member"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AbsenceKind.choices)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = AbsenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["user", "ends_at"], name="absence_user_end_idx")]

    def __str__(self):
        return f"{self.user} {self.get_kind_display()}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The absence must end after it starts.")})


class Backup(models.Model):
    """Who takes over a person's cases while they are away (B角)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="backup_setting",
        verbose_name=_("staff member"),
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="backup_for",
        verbose_name=_("backup (B角)"),
    )

    class Meta:
        verbose_name = _("backup (B角)")
        verbose_name_plural = _("backups (B角)")

    def __str__(self):
        return f"{self.user} → {self.backup}"

    def clean(self):
        if self.user_id and self.user_id == self.backup_id:
            raise ValidationError({"backup": _("A person cannot be their own backup.")})


def absent_q(moment, user_ref="pk"):
    return Exists(Absence.objects.current(moment).filter(user=OuterRef(user_ref)))


def on_duty_q(moment, department=None):
    """A condition on User: on duty at `moment`. Not absent, and either a rota entry (of
    `department`, when given) covers the moment, or there is no rota to follow — the
    department (or, without one, the person) has no entry within ROTA_HORIZON_DAYS."""
    entries = RotaEntry.objects.filter(user=OuterRef("pk"))
    if department is not None:
        entries = entries.filter(department=department)
        keeps_rota = Exists(RotaEntry.objects.near(moment).filter(department=department))
    else:
        keeps_rota = Exists(entries.near(moment))
    return ~absent_q(moment) & (Exists(entries.covering(moment)) | ~keeps_rota)


class DutyStatus(models.TextChoices):
    ON_DUTY = "on_duty", _("On duty")
    OFF = "off", _("Off duty")
    LEAVE = "leave", _("On leave")


def duty_q_status(moment, department=None):
    """Annotations for a User queryset: `is_absent`, `is_on_duty` (see on_duty_q)."""
    return {
        "is_absent": absent_q(moment),
        "is_on_duty": ExpressionWrapper(on_duty_q(moment, department), output_field=BooleanField()),
    }


def status_of(is_absent, is_on_duty):
    if is_absent:
        return DutyStatus.LEAVE
    return DutyStatus.ON_DUTY if is_on_duty else DutyStatus.OFF
