"""The satisfaction summary page in the admin (满意度统计).

It hangs on the proxy model SatisfactionSummary: the admin index lists it under the
follow-ups app for whoever has its "view" permission, and its changelist is this page — a
period picker (a GET form), KPI tiles, server-rendered SVG charts (callbacks.charts) and a
table for every chart. The figures come from callbacks.stats; nothing is computed here but
their display.
"""

import datetime

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from . import charts, loyalty, metrics, stats
from .models import SatisfactionSummary

DASH = "—"


def _score(value):
    return DASH if value is None else f"{value:.2f}"


def _pct(share):
    return DASH if share is None else f"{metrics.as_percent(share, places=1)}%"


def _signed(value):
    if value is None:
        return DASH
    return f"+{value:.2f}" if value > 0 else f"{value:.2f}"


def _target_text(meets):
    if meets is None:
        return DASH
    return _("Meets the target") if meets else _("Below the target")


def _score_labels():
    return {
        5: _("Very satisfied"),
        4: _("Satisfied"),
        3: _("Neutral"),
        2: _("Dissatisfied"),
        1: _("Very dissatisfied"),
    }


def _row(figures):
    """A group's figures as display strings (the tables and the chart texts)."""
    return {
        **figures,
        "score_text": _score(figures["score"]),
        "rate_text": _pct(figures["rate"]),
        "incidence_text": _pct(figures["problem_incidence"]),
        "target_text": _target_text(figures["meets_target"]),
    }


def page_context(summary, trend):
    """Everything the template shows, from stats.satisfaction_summary and monthly_trend."""
    target = summary["target"]
    target_label = _("Target %(rate)s") % {"rate": _pct(target)}
    totals, previous = summary["totals"], summary["previous"]
    groups = [_row(g) for g in summary["groups"]]
    trend_rows = [_row({**t, "problem_incidence": None}) for t in trend]
    score_labels = _score_labels()
    distribution = [
        {**d, "label": f"{d['score']} {score_labels[d['score']]}"} for d in summary["distribution"]
    ]
    group_label = dict(stats.GROUP_BY_CHOICES)[summary["group_by"]]

    trend_chart = charts.line_chart(
        [(t["label"], t["rate"], t["rate_text"]) for t in trend_rows],
        title=_("Satisfaction rate by month, last %(n)s months") % {"n": len(trend_rows)},
        desc=_("Share of answers scoring 4 or 5 each month; the dashed line is the target."),
        target=target,
        target_label=target_label,
    )
    distribution_chart = charts.column_chart(
        [(str(d["score"]), d["count"], str(d["count"])) for d in distribution],
        title=_("Answers per overall score"),
        desc=_("How many customers gave each overall satisfaction score, 5 (best) to 1."),
    )
    group_title = _("Satisfaction rate by %(group)s") % {"group": group_label}
    group_desc = _("Satisfaction rate of each group; the dashed line is the target.")
    # A line for a run of periods; bars for a few periods or for categories.
    if summary["group_by"] in stats.PERIOD_KINDS and len(groups) > 3:
        group_chart = charts.line_chart(
            [(g["label"], g["rate"], g["rate_text"]) for g in groups],
            title=group_title,
            desc=group_desc,
            target=target,
            target_label=target_label,
        )
    else:
        group_chart = charts.bar_chart(
            [
                (
                    g["label"],
                    g["rate"],
                    f"{g['rate_text']} · {g['score_text']} ({g['answers']})",
                    g["meets_target"],
                )
                for g in groups
            ],
            title=group_title,
            desc=group_desc,
            maximum=1,
            target=target,
            target_label=target_label,
        )
    opinions = [{**o, "share_text": _pct(o["share"])} for o in summary["opinions"]]
    opinion_chart = (
        charts.bar_chart(
            [(o["label"], o["count"], f"{o['count']} ({o['share_text']})", None) for o in opinions],
            title=_("Opinion concentration"),
            desc=_("Mentions per opinion category: problems found and options picked."),
            width=460,
            label_width=130,
            value_width=90,
        )
        if opinions
        else None
    )
    return {
        "summary": summary,
        "totals": _row(totals),
        "previous": _row(previous),
        "improvement_text": _signed(summary["improvement"]),
        "improvement": summary["improvement"],
        "target_text": _pct(target),
        "groups": groups,
        "group_label": group_label,
        "trend": trend_rows,
        "distribution": distribution,
        "opinions": opinions,
        "trend_chart": trend_chart,
        "distribution_chart": distribution_chart,
        "group_chart": group_chart,
        "opinion_chart": opinion_chart,
    }


@admin.register(SatisfactionSummary)
class SatisfactionSummaryAdmin(admin.ModelAdmin):
    """Read-only: the page below is the whole of it (no list, add, change or delete)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [path("", self.admin_site.admin_view(self.changelist_view), name=name)]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = stats.PeriodForm(request.GET)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": capfirst(self.opts.verbose_name_plural),
            "form": form,
        }
        if form.is_valid():
            data = form.cleaned_data
            summary = stats.satisfaction_summary(
                date_from=data["from"],
                date_to=data["to"],
                group_by=data["group_by"],
                trend_to=data["to"],  # the 12-month trend, read with the period's figures
            )
            context.update(page_context(summary, summary["trend"]))
            repeat = loyalty.repeat_purchase(
                stats.day_start(data["from"]),
                stats.day_start(data["to"] + datetime.timedelta(days=1)),
                customers=summary["totals"]["customers_surveyed"],
            )
            context["repeat"] = repeat
            context["repeat_text"] = _pct(repeat.rate)
            query = {
                "from": data["from"].isoformat(),
                "to": data["to"].isoformat(),
                "group_by": data["group_by"],
            }
            context["api_url"] = f"{reverse('api:metrics-satisfaction')}?{urlencode(query)}"
        return TemplateResponse(request, "admin/callbacks/metrics.html", context)
