"""The staffing page (人员配置) in the admin: next week's forecast per channel and interval,
the agents needed (formula and inputs shown), the people scheduled on the rota, under-staffed
intervals highlighted, and a greedy rota suggestion for a department."""

import datetime

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import Channel
from servicedesk.rota import services as rota
from servicedesk.staff.models import Department

from . import charts, erlang, staffing
from .models import StaffingForecast

ONE_DAY = datetime.timedelta(days=1)
MAX_WEEKS = 26


def _int(text, default, low, high):
    try:
        return min(max(int(text), low), high)
    except (TypeError, ValueError):
        return default


def _date(text, default):
    try:
        return datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        return default


def page_context(*, monday, weeks, department, day):
    data = staffing.staffing_week(monday=monday, weeks=weeks, department=department)
    fc, need, scheduled = data["forecast"], data["need"], data["scheduled"]
    labels = dict(Channel.choices)
    day_kinds = rota.day_labels(data["days"])
    if day not in data["days"]:
        day = monday
    rows = []
    for slot in range(forecast_slots()):
        needed = need.per_interval.get((day, slot), 0)
        have = scheduled.get((day, slot), 0)
        rows.append(
            {
                "time": staffing.slot_label(slot),
                "arrivals": [round(fc.arrivals.get((day, slot, c), 0.0), 1) for c in fc.channels],
                "needed": needed,
                "scheduled": have,
                "gap": have - needed,
                "under": have < needed,
            }
        )
    week = []
    for d in data["days"]:
        under = sum(
            1 for s in range(forecast_slots())
            if scheduled.get((d, s), 0) < need.per_interval.get((d, s), 0)
        )  # fmt: skip
        week.append(
            {
                "date": d,
                "kind": day_kinds[d][0],
                "name": day_kinds[d][1],
                "arrivals": round(sum(fc.total(d, s) for s in range(forecast_slots())), 1),
                "peak": max(need.per_interval.get((d, s), 0) for s in range(forecast_slots())),
                "under": under,
                "basis": fc.basis.get(d, ("none", 0)),
            }
        )
    chart = charts.staffing_chart(
        [(r["time"], r["needed"], r["scheduled"]) for r in rows],
        title=_("Agents needed and scheduled, %(day)s") % {"day": day.isoformat()},
        desc=_(
            "Columns: people on the rota and not absent; line: agents needed per 30 minutes; "
            "red bands: under-staffed intervals."
        ),
        legend=(_("Needed"), _("Scheduled"), _("Under-staffed")),
    )
    inputs = [
        {
            "channel": labels.get(c, c),
            "queued": v["target"].queued,
            "target": v["target"],
            "aht": round(v["aht"]),
            "measured": v["measured"],
        }
        for c, v in need.inputs.items()
    ]
    suggestion = [
        {"date": d, "shift": shift, "people": n}
        for (d, shift), n in sorted(
            data["suggestion"].items(), key=lambda kv: (kv[0][0], kv[0][1].start)
        )
    ]
    return {
        "day": day,
        "rows": rows,
        "week": week,
        "chart": chart,
        "channels": [labels.get(c, c) for c in fc.channels],
        "inputs": inputs,
        "formula": erlang.FORMULA,
        "suggestion": suggestion,
        "has_shifts": bool(data["shifts"]),
        "under_total": sum(w["under"] for w in week),
    }


def forecast_slots():
    from .forecast import SLOTS

    return SLOTS


@admin.register(StaffingForecast)
class StaffingForecastAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        next_monday = rota.week_start(today) + 7 * ONE_DAY
        monday = rota.week_start(_date(request.GET.get("week"), next_monday))
        weeks = _int(request.GET.get("weeks"), 8, 1, MAX_WEEKS)
        departments = list(Department.objects.filter(is_active=True))
        department = next(
            (d for d in departments if str(d.pk) == request.GET.get("department")), None
        )
        day = _date(request.GET.get("day"), monday)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Staffing forecast"),
            "opts": self.model._meta,
            "monday": monday,
            "weeks": weeks,
            "departments": departments,
            "department": department,
            **page_context(monday=monday, weeks=weeks, department=department, day=day),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/workforce/staffing.html", context)
