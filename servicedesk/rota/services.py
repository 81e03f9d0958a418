"""Rota workflows: set a week's grid, copy last week, apply a pattern; who is on duty now."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.calendar.models import CalendarDay, DayKind
from servicedesk.calendar.services import load_calendar
from servicedesk.staff.models import User

from .models import Absence, RotaEntry, Shift, on_duty_q

ONE_DAY = datetime.timedelta(days=1)


def week_start(day):
    """The Monday of `day`'s week."""
    return day - datetime.timedelta(days=day.weekday())


def week_days(monday):
    return [monday + datetime.timedelta(days=i) for i in range(7)]


def day_labels(days):
    """{date: (kind, name)} for the week's dates: "holiday" / "workday" (调休) / "weekend" /
    "" (an ordinary working day), with the holiday's name from the calendar."""
    named = {
        d: (k, n) for d, k, n in CalendarDay.objects.filter(date__in=days).values_list(
            "date", "kind", "name"
        )
    }  # fmt: skip
    labels = {}
    for day in days:
        if day in named:
            kind, name = named[day]
            labels[day] = ("holiday" if kind == DayKind.HOLIDAY else "workday", name)
        else:
            labels[day] = ("weekend" if day.weekday() >= 5 else "", "")
    return labels


def department_members(department):
    return list(
        User.objects.filter(memberships__department=department, is_active=True)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def rota_entry_set(*, department, user, date, shift):
    """Put `user` on `shift` on `date` for `department` (None clears the day). Returns the
    entry or None."""
    if shift is None:
        RotaEntry.objects.filter(user=user, date=date, department=department).delete()
        return None
    if shift.department_id not in (None, department.pk):
        raise ValidationError({"shift": _("This shift belongs to another department.")})
    starts_at, ends_at = shift.span(date)
    entry, _created = RotaEntry.objects.update_or_create(
        user=user,
        date=date,
        defaults={
            "department": department, "shift": shift, "starts_at": starts_at, "ends_at": ends_at,
        },
    )  # fmt: skip
    return entry


def rota_week_save(*, department, monday, grid):
    """Save a week's grid: `grid` maps (user_id, date) to a Shift or None. Members only;
    all or nothing."""
    members = {u.pk: u for u in department_members(department)}
    days = set(week_days(monday))
    with transaction.atomic():
        for (user_id, day), shift in grid.items():
            if user_id not in members or day not in days:
                raise ValidationError(_("Only the department's members and this week's days."))
            rota_entry_set(department=department, user=members[user_id], date=day, shift=shift)


def rota_copy_week(*, department, monday):
    """Copy the week before `monday` onto this week (replacing this week's entries)."""
    previous = monday - datetime.timedelta(days=7)
    with transaction.atomic():
        RotaEntry.objects.filter(
            department=department, date__range=(monday, monday + 6 * ONE_DAY)
        ).delete()
        copied = 0
        for entry in RotaEntry.objects.filter(
            department=department, date__range=(previous, previous + 6 * ONE_DAY)
        ).select_related("shift", "user"):
            rota_entry_set(
                department=department, user=entry.user, date=entry.date + 7 * ONE_DAY,
                shift=entry.shift,
            )  # fmt: skip
            copied += 1
    return copied


def rota_apply_pattern(*, department, monday, shift, users, weekdays=(), working_days=False):
    """Put `users` on `shift` on the given weekdays (0 = Monday) of the week, or with
    `working_days` on the week's working days by the China calendar (a 调休 Saturday
    included, a holiday left free)."""
    cal = load_calendar()
    days = [
        d for d in week_days(monday)
        if (cal.is_workday(d) if working_days else d.weekday() in set(weekdays))
    ]  # fmt: skip
    with transaction.atomic():
        for user in users:
            for day in days:
                rota_entry_set(department=department, user=user, date=day, shift=shift)
    return len(days) * len(users)


def scheduled_per_interval(*, start, end, department=None, minutes=30):
    """{interval start: people on the rota and not absent} for [start, end) — one query for
    the entries and one for the absences."""
    entries = RotaEntry.objects.filter(starts_at__lt=end, ends_at__gt=start)
    if department is not None:
        entries = entries.filter(department=department)
    spans = list(entries.values_list("user_id", "starts_at", "ends_at"))
    absences = {}
    for user_id, a_start, a_end in Absence.objects.filter(
        starts_at__lt=end, ends_at__gt=start, user_id__in={s[0] for s in spans}
    ).values_list("user_id", "starts_at", "ends_at"):
        absences.setdefault(user_id, []).append((a_start, a_end))
    step = datetime.timedelta(minutes=minutes)
    counts = {}
    moment = start
    while moment < end:
        counts[moment] = 0
        moment += step
    for user_id, s, e in spans:
        for moment in counts:
            if s <= moment < e and not any(a <= moment < b for a, b in absences.get(user_id, ())):
                counts[moment] += 1
    return counts


def on_duty_ids(user_ids, now=None):
    """Of `user_ids`, those on duty at `now` (one query)."""
    now = now or timezone.now()
    return set(
        User.objects.filter(pk__in=user_ids).filter(on_duty_q(now)).values_list("pk", flat=True)
    )


def absent_ids(user_ids, now=None):
    now = now or timezone.now()
    return set(
        Absence.objects.current(now).filter(user_id__in=user_ids).values_list("user_id", flat=True)
    )


def shifts_for(department):
    return Shift.objects.filter(is_active=True).filter(
        department__isnull=True
    ) | Shift.objects.filter(is_active=True, department=department)
