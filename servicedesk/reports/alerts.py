"""Early-warning indicators (风险预警): pure evaluation, no ORM and no clock.

services.alerts_evaluate measures each active AlertRule (one or two aggregate queries) and
hands the measured figures here; this module decides whether the rule is breached, for which
subject, and writes the figures that triggered it and the message people read.

* first_response_median — median hours from a case's receipt to its first response, over
  the cases received in the window that have one; breached when above the threshold (hours).
* sla_breach_rate — the deadlines due in the window: the share missed (done after the
  deadline, or still to meet and past it); breached when above the threshold (%).
* category_rise / product_rise — complaints received in the window against the window
  before, per category or product; breached for each subject with at least `min_count`
  complaints now and a rise above the threshold (%). None before counts as an unlimited rise.
* satisfaction_below — the handbook satisfaction rate (callbacks.metrics) of the answers
  received in the window; breached when under the threshold (%).

Fewer cases (or answers) than the rule's `min_count` are too few to mean much: the rule is
then not judged at all (`measured=False`) and an open alert is left as it is. For the rise
rules every subject is judged: a subject with too few complaints is simply not rising.

Figures are JSON (numbers rounded to two places, times as local "YYYY-MM-DD HH:MM"), stored
on the Alert; FIGURE_LABELS names and orders them for the admin and the e-mail.
"""

import datetime
import statistics
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from callbacks import metrics
from complaints.models import Category, Channel, SlaStage

from .models import Indicator

TWO_PLACES = Decimal("0.01")

# The figures' names, in the order they are shown: what was measured first, then the rule.
FIGURE_LABELS = {
    "subject": gettext_lazy("subject"),
    "department": gettext_lazy("department"),
    "median_hours": gettext_lazy("median first response (hours)"),
    "mean_hours": gettext_lazy("mean first response (hours)"),
    "cases": gettext_lazy("cases with a first response"),
    "missed_percent": gettext_lazy("share missed (%)"),
    "missed": gettext_lazy("deadlines missed"),
    "deadlines": gettext_lazy("deadlines due"),
    "missed_by_stage": gettext_lazy("missed per stage"),
    "rise_percent": gettext_lazy("rise (%)"),
    "current": gettext_lazy("complaints in the window"),
    "previous": gettext_lazy("complaints in the window before"),
    "rate_percent": gettext_lazy("satisfaction rate (%)"),
    "answers": gettext_lazy("answers"),
    "satisfied": gettext_lazy("satisfied answers (4 or 5)"),
    "score": gettext_lazy("satisfaction score"),
    "threshold": gettext_lazy("threshold"),
    "min_count": gettext_lazy("minimum count"),
    "window_days": gettext_lazy("looking back (days)"),
    "from": pgettext_lazy("period", "From"),
    "to": pgettext_lazy("period", "To"),
    "previous_from": gettext_lazy("window before, from"),
    "interval": gettext_lazy("half hour from"),
    "channel": gettext_lazy("channel"),
    "contacts": gettext_lazy("contacts so far"),
    "forecast": gettext_lazy("forecast for the half hour"),
}


@dataclass(frozen=True)
class Window:
    """The period measured: [start, end), `days` long; `department` is the rule's scope
    (its name) or None for the whole desk."""

    start: datetime.datetime
    end: datetime.datetime
    days: int
    department: str | None = None

    @classmethod
    def ending(cls, end, days, department=None):
        return cls(end - datetime.timedelta(days=days), end, days, department)

    @property
    def previous_start(self):
        return self.start - datetime.timedelta(days=self.days)

    def figures(self, threshold, min_count):
        figures = {
            "from": local_text(self.start),
            "to": local_text(self.end),
            "window_days": self.days,
            "threshold": number(threshold),
            "min_count": min_count,
        }
        if self.department:
            figures["department"] = self.department
        return figures

    def message(self, text):
        if not self.department:
            return text
        return _("%(department)s: %(message)s") % {"department": self.department, "message": text}


@dataclass(frozen=True)
class Breach:
    subject: str
    figures: dict
    message: str


@dataclass(frozen=True)
class Evaluation:
    """`measured`: whether the rule could be judged; `breaches`: one per subject in breach."""

    measured: bool
    breaches: tuple = field(default_factory=tuple)

    @property
    def subjects(self):
        return {b.subject for b in self.breaches}


NOT_MEASURED = Evaluation(measured=False)


def local_text(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def quantize(value):
    return Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def number(value):
    """A figure for JSON: an int when whole, else a float with two places."""
    if value is None:
        return None
    value = quantize(value)
    return int(value) if value == value.to_integral_value() else float(value)


def text(value):
    """A figure for a sentence: "24", "24.5", "12.25"."""
    return format(quantize(value).normalize(), "f")


# --- the indicators -------------------------------------------------------------------------


def first_response_median(hours, *, threshold, min_count, window):
    """`hours`: first-response times (hours) of the cases received in the window."""
    hours = [Decimal(str(h)) for h in hours]
    if not hours or len(hours) < min_count:
        return NOT_MEASURED
    median = quantize(statistics.median(hours))
    if median <= threshold:
        return Evaluation(measured=True)
    figures = {
        **window.figures(threshold, min_count),
        "cases": len(hours),
        "median_hours": number(median),
        "mean_hours": number(sum(hours) / len(hours)),
    }
    message = _(
        "Median first response %(median)s h over the last %(days)s days (%(count)s cases), "
        "above the %(threshold)s h threshold."
    ) % {"median": text(median), "days": window.days, "count": len(hours),
         "threshold": text(threshold)}  # fmt: skip
    return Evaluation(True, (Breach("", figures, window.message(message)),))


def sla_breach_rate(*, due, missed, threshold, min_count, window, missed_by_stage=None):
    """`due`: deadlines due in the window (met, missed, or still to meet and past due);
    `missed`: those done late or still to meet."""
    if not due or due < min_count:
        return NOT_MEASURED
    rate = quantize(Decimal(missed) * 100 / Decimal(due))
    if rate <= threshold:
        return Evaluation(measured=True)
    figures = {
        **window.figures(threshold, min_count),
        "deadlines": due,
        "missed": missed,
        "missed_percent": number(rate),
    }
    if missed_by_stage:
        figures["missed_by_stage"] = {k: v for k, v in missed_by_stage.items() if v}
    message = _(
        "%(rate)s%% of the deadlines due in the last %(days)s days were missed "
        "(%(missed)s of %(due)s), above the %(threshold)s%% threshold."
    ) % {"rate": text(rate), "days": window.days, "missed": missed, "due": due,
         "threshold": text(threshold)}  # fmt: skip
    return Evaluation(True, (Breach("", figures, window.message(message)),))


def complaint_rise(counts, *, indicator, threshold, min_count, window):
    """`counts`: {subject: (complaints in the window, complaints in the window before)};
    subjects are category codes (category_rise) or product names (product_rise)."""
    breaches = []
    for subject, (current, previous) in sorted(counts.items()):
        if current < min_count or current <= previous:
            continue
        rise = None if previous == 0 else quantize(Decimal(current - previous) * 100 / previous)
        if rise is not None and rise <= threshold:
            continue
        figures = {
            **window.figures(threshold, min_count),
            "subject": subject_label(indicator, subject),
            "current": current,
            "previous": previous,
            "previous_from": local_text(window.previous_start),
            "rise_percent": number(rise),
        }
        values = {
            "subject": subject_label(indicator, subject),
            "current": current,
            "previous": previous,
            "days": window.days,
            "rise": text(rise) if rise is not None else "",
            "threshold": text(threshold),
        }
        breaches.append(
            Breach(subject, figures, window.message(_rise_message(indicator, rise) % values))
        )
    return Evaluation(True, tuple(breaches))


def _rise_message(indicator, rise):
    if indicator == Indicator.CATEGORY_RISE:
        if rise is None:
            return _(
                "Complaints in category %(subject)s: %(current)s in the last %(days)s days, "
                "none in the %(days)s days before."
            )
        return _(
            "Complaints in category %(subject)s: %(current)s in the last %(days)s days against "
            "%(previous)s in the %(days)s days before, up %(rise)s%% (threshold %(threshold)s%%)."
        )
    if rise is None:
        return _(
            "Complaints about product %(subject)s: %(current)s in the last %(days)s days, "
            "none in the %(days)s days before."
        )
    return _(
        "Complaints about product %(subject)s: %(current)s in the last %(days)s days against "
        "%(previous)s in the %(days)s days before, up %(rise)s%% (threshold %(threshold)s%%)."
    )


def satisfaction_below(scores, *, threshold, min_count, window):
    """`scores`: the overall scores (1–5) of the answers received in the window."""
    scores = list(scores)
    if not scores or len(scores) < min_count:
        return NOT_MEASURED
    rate = metrics.as_percent(metrics.satisfaction_rate(scores))
    if rate >= threshold:
        return Evaluation(measured=True)
    figures = {
        **window.figures(threshold, min_count),
        "answers": len(scores),
        "satisfied": sum(1 for s in scores if s >= metrics.SATISFIED_MIN),
        "rate_percent": number(rate),
        "score": number(metrics.satisfaction_score(scores)),
    }
    message = _(
        "Satisfaction rate %(rate)s%% over the last %(days)s days (%(answers)s answers), "
        "under the %(threshold)s%% target."
    ) % {"rate": text(rate), "days": window.days, "answers": len(scores),
         "threshold": text(threshold)}  # fmt: skip
    return Evaluation(True, (Breach("", figures, window.message(message)),))


# --- display ------------------------------------------------------------------------------


def subject_label(indicator, subject):
    """What an alert is about, for people: a category's name, a product, or the whole desk."""
    if not subject:
        return _("whole service desk")
    if indicator == Indicator.CATEGORY_RISE:
        return str(dict(Category.choices).get(subject, subject))
    if indicator == Indicator.VOLUME_OVER_FORECAST:
        moment, _sep, channel = subject.rpartition(" ")
        return f"{moment} {dict(Channel.choices).get(channel, channel)}"
    return subject


def figure_rows(figures):
    """[(label, value text)] of an alert's figures, in FIGURE_LABELS order (PostgreSQL's jsonb
    does not keep the order they were written in)."""
    order = {key: i for i, key in enumerate(FIGURE_LABELS)}
    stages = {value: (i, label) for i, (value, label) in enumerate(SlaStage.choices)}
    rows = []
    for key in sorted(figures or {}, key=lambda k: (order.get(k, len(order)), k)):
        value = figures[key]
        label = str(FIGURE_LABELS.get(key, key))
        if value is None:
            shown = _("none before") if key == "rise_percent" else "—"
        elif isinstance(value, dict):
            ordered = sorted(value.items(), key=lambda kv: stages.get(kv[0], (len(stages), "")))
            shown = "; ".join(f"{stages.get(k, (0, k))[1]}: {v}" for k, v in ordered)
        else:
            shown = str(value)
        rows.append((label, shown))
    return rows
