"""The rota in the admin: shifts, absences, backups, and the week grid (the rota entries'
changelist is the grid: one row per member, one column per day, a shift per cell)."""

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicedesk.staff.models import Department, User

from . import services
from .models import Absence, Backup, RotaEntry, Shift, duty_q_status, status_of


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["name", "start", "end", "department", "is_active"]
    list_filter = ["is_active", "department"]
    list_select_related = ["department"]


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "starts_at", "ends_at", "note"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    date_hierarchy = "starts_at"


@admin.register(Backup)
class BackupAdmin(admin.ModelAdmin):
    list_display = ["user", "backup"]
    list_select_related = ["user", "backup"]
    autocomplete_fields = ["user", "backup"]


def _parse_week(text):
    try:
        day = datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        day = timezone.localdate()
    return services.week_start(day)


@admin.register(RotaEntry)
class RotaEntryAdmin(admin.ModelAdmin):
    """The changelist is the week grid."""

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        departments = list(Department.objects.filter(is_active=True))
        department = next(
            (d for d in departments if str(d.pk) == request.GET.get("department")),
            departments[0] if departments else None,
        )
        monday = _parse_week(request.GET.get("week"))
        if request.method == "POST":
            if not self.has_change_permission(request) or department is None:
                raise PermissionDenied
            self._post(request, department, monday)
            query = urlencode({"department": department.pk, "week": monday.isoformat()})
            return HttpResponseRedirect(f"{request.path}?{query}")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Duty rota"),
            "opts": self.model._meta,
            "departments": departments,
            "department": department,
            "monday": monday,
            "previous_week": (monday - datetime.timedelta(days=7)).isoformat(),
            "next_week": (monday + datetime.timedelta(days=7)).isoformat(),
            "can_change": self.has_change_permission(request),
            **(self._grid(department, monday) if department else {}),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/rota/week.html", context)

    def _grid(self, department, monday):
        days = services.week_days(monday)
        labels = services.day_labels(days)
        now = timezone.now()
        members = list(
            User.objects.filter(memberships__department=department, is_active=True)
            .annotate(**duty_q_status(now, department))
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        entries = {
            (e.user_id, e.date): e.shift_id
            for e in RotaEntry.objects.filter(
                department=department, date__range=(days[0], days[-1])
            )
        }
        week_start = datetime.datetime.combine(
            days[0], datetime.time(), tzinfo=timezone.get_current_timezone()
        )
        week_end = week_start + datetime.timedelta(days=7)
        absences = list(
            Absence.objects.filter(
                user__in=members, starts_at__lt=week_end, ends_at__gt=week_start
            ).values_list("user_id", "starts_at", "ends_at", "kind")
        )
        shifts = list(services.shifts_for(department).order_by("start"))
        rows = []
        for user in members:
            cells = []
            for day in days:
                d_start = datetime.datetime.combine(day, datetime.time(), tzinfo=week_start.tzinfo)
                d_end = d_start + datetime.timedelta(days=1)
                away = next(
                    (k for u, s, e, k in absences if u == user.pk and s < d_end and e > d_start),
                    None,
                )
                cells.append(
                    {
                        "name": f"c_{user.pk}_{day:%Y%m%d}",
                        "shift_id": entries.get((user.pk, day)),
                        "absent": away,
                    }
                )
            rows.append(
                {"user": user, "status": status_of(user.is_absent, user.is_on_duty), "cells": cells}
            )
        return {
            "days": [{"date": d, "kind": labels[d][0], "name": labels[d][1]} for d in days],
            "rows": rows,
            "shifts": shifts,
            "weekday_choices": list(enumerate(_weekday_names())),
        }

    def _post(self, request, department, monday):
        action = request.POST.get("action")
        try:
            if action == "copy":
                n = services.rota_copy_week(department=department, monday=monday)
                messages.success(request, _("Copied %(n)s entries from last week.") % {"n": n})
            elif action == "pattern":
                shift = services.shifts_for(department).filter(pk=request.POST.get("shift")).first()
                if shift is None:
                    raise ValidationError(_("Choose a shift."))
                users = User.objects.filter(
                    Q(pk__in=request.POST.getlist("users")) if request.POST.getlist("users") else Q(),
                    memberships__department=department, is_active=True,
                ).distinct()  # fmt: skip
                n = services.rota_apply_pattern(
                    department=department, monday=monday, shift=shift, users=list(users),
                    weekdays=[int(w) for w in request.POST.getlist("weekdays") if w.isdigit()],
                    working_days=bool(request.POST.get("working_days")),
                )  # fmt: skip
                messages.success(request, _("Pattern applied: %(n)s entries.") % {"n": n})
            else:
                shifts = {str(s.pk): s for s in services.shifts_for(department)}
                grid = {}
                for key, value in request.POST.items():
                    if not key.startswith("c_"):
                        continue
                    _c, user_id, day = key.split("_")
                    if value and value not in shifts:
                        raise ValidationError(_("Unknown shift."))
                    grid[(int(user_id), datetime.datetime.strptime(day, "%Y%m%d").date())] = (
                        shifts.get(value)
                    )
                services.rota_week_save(department=department, monday=monday, grid=grid)
                messages.success(request, _("The rota was saved."))
        except (ValidationError, ValueError) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, text)


def _weekday_names():
    return [
        gettext_lazy("Mon"), gettext_lazy("Tue"), gettext_lazy("Wed"), gettext_lazy("Thu"),
        gettext_lazy("Fri"), gettext_lazy("Sat"), gettext_lazy("Sun"),
    ]  # fmt: skip
