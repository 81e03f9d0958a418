from collections import Counter

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services
from .forms import CalendarImportForm
from .models import CalendarDay, CalendarYear, DayKind


def _weekday(day):
    return date_format(day, "l") if day else ""


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    fields = ["date", "weekday", "kind", "name"]
    readonly_fields = ["weekday"]
    extra = 0
    ordering = ["date"]

    @admin.display(description=gettext_lazy("weekday"))
    def weekday(self, obj):
        return _weekday(obj.date)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "source", "holiday_count", "workday_count", "loaded_by", "loaded_at"]
    list_filter = ["source"]
    list_select_related = ["loaded_by"]
    fields = ["year", "source", "notes", "loaded_by", "loaded_at"]
    readonly_fields = ["year", "source", "loaded_by", "loaded_at"]
    inlines = [CalendarDayInline]
    change_list_template = "admin/workcalendar/calendaryear/change_list.html"
    change_form_template = "admin/workcalendar/calendaryear/change_form.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                holiday_count=Count("days", filter=Q(days__kind=DayKind.HOLIDAY)),
                workday_count=Count("days", filter=Q(days__kind=DayKind.WORKDAY)),
            )
        )

    @admin.display(description=gettext_lazy("days off"), ordering="holiday_count")
    def holiday_count(self, obj):
        return obj.holiday_count

    @admin.display(description=gettext_lazy("make-up working days"), ordering="workday_count")
    def workday_count(self, obj):
        return obj.workday_count

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="workcalendar_calendaryear_import",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        # A year is added by importing its schedule: one form, one service, one set of checks.
        return redirect("admin:workcalendar_calendaryear_import")

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        if request.method == "POST":
            form = CalendarImportForm(request.POST)
            if form.is_valid():
                try:
                    calendar_year = services.calendar_year_load(
                        year=form.cleaned_data["year"],
                        days=form.cleaned_data["days"],
                        user=request.user,
                        notes=form.cleaned_data["notes"],
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    counts = Counter(kind for _date, kind, _name in form.cleaned_data["days"])
                    self.message_user(
                        request,
                        _(
                            "Loaded %(year)s: %(holidays)s days off and %(workdays)s make-up "
                            "working days."
                        )
                        % {
                            "year": calendar_year.year,
                            "holidays": counts[DayKind.HOLIDAY],
                            "workdays": counts[DayKind.WORKDAY],
                        },
                        messages.SUCCESS,
                    )
                    return redirect("admin:workcalendar_calendaryear_change", calendar_year.pk)
        else:
            form = CalendarImportForm(initial=self._import_initial(request))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import a year's official holiday schedule"),
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/workcalendar/calendaryear/import.html", context)

    def _import_initial(self, request):
        year = request.GET.get("year", "")
        if not year.isdigit():
            missing = services.missing_years_to_warn()
            return {"year": missing[0]} if missing else {}
        initial = {"year": int(year)}
        existing = CalendarYear.objects.filter(year=int(year)).first()
        if existing:
            # "Edit as a list": the loaded days, ready to correct and load again.
            initial.update(
                days=services.calendar_year_as_text(existing), notes=existing.notes, replace=True
            )
        return initial


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "kind", "name", "calendar_year"]
    list_filter = ["kind", "calendar_year"]
    list_select_related = ["calendar_year"]
    search_fields = ["name"]
    date_hierarchy = "date"

    @admin.display(description=gettext_lazy("weekday"))
    def weekday(self, obj):
        return _weekday(obj.date)
