from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import services
from .models import CalendarYear


class CalendarImportForm(forms.Form):
    """A year's official schedule as the simple list `services.parse_day_list` reads."""

    year = forms.IntegerField(label=capfirst(_("year")), min_value=2000, max_value=2200)
    days = forms.CharField(
        label=capfirst(_("days")),
        widget=forms.Textarea(attrs={"rows": 24, "cols": 60, "class": "vLargeTextField"}),
        help_text=_(
            "One date or range per line: the date, then holiday (休) for a day off or workday "
            "(班) for a weekend day made a working day, then the name. For example: "
            "“2027-01-01 holiday 元旦”, “2027-02-06~2027-02-12 holiday 春节”, "
            "“2027-02-14 workday 春节调休”. List every day off of each holiday period, "
            "weekend days included."
        ),
    )
    notes = forms.CharField(
        label=capfirst(_("notes")),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("For example the State Council notice it comes from."),
    )
    replace = forms.BooleanField(
        label=_("Replace the days already loaded for this year"),
        required=False,
    )

    def clean_days(self):
        return services.parse_day_list(self.cleaned_data["days"])

    def clean(self):
        cleaned = super().clean()
        year = cleaned.get("year")
        if year and not cleaned.get("replace"):
            existing = CalendarYear.objects.filter(year=year).first()
            if existing:
                self.add_error(
                    "replace",
                    ValidationError(
                        _(
                            "%(year)s is already loaded (%(source)s). Tick this box to replace "
                            "its days with this list."
                        ),
                        params={"year": year, "source": existing.get_source_display()},
                    ),
                )
        return cleaned
