"""The manager dashboard (the admin index for supervisors and managers): reads only.

Every figure is one aggregate query over indexed columns, so the page costs the same number
of queries whatever the volume. Case figures respect what the user may see (visible_to).
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from callbacks import metrics
from callbacks.models import FollowUp, Response
from complaints.models import OPEN_STATES, Case, Channel, SlaBreach, State
from knowledge.targets import targets_at

from .models import Alert, AlertStatus

TREND_DAYS = 14
DUE_SOON_HOURS = 4


@dataclass
class Dashboard:
    today_received: int = 0
    today_by_channel: list = field(default_factory=list)  # [(label, count)], largest first
    daily: list = field(default_factory=list)  # [(date, count)] for the last TREND_DAYS days
    open_by_state: list = field(default_factory=list)  # [(label, count)] in workflow order
    open_total: int = 0
    overdue: int = 0
    due_soon: int = 0
    escalated_open: int = 0
    breaches_today: int = 0
    breaches_week: int = 0
    satisfaction_answers: int = 0
    satisfaction_rate: object = None  # Decimal share or None
    satisfaction_score: object = None
    satisfaction_meets_target: object = None
    satisfaction_target: object = None  # the plan in force this month (knowledge.targets)
    followups_due_today: int = 0
    followups_overdue: int = 0
    alerts: list = field(default_factory=list)
    alerts_open: int = 0
    links: dict = field(default_factory=dict)  # each tile's list: exactly what it counts


def _day_start(now):
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def dashboard_figures(user, now=None):
    now = now or timezone.now()
    today = _day_start(now)
    month_start = today.replace(day=1)
    cases = Case.objects.visible_to(user)
    d = Dashboard()

    trend_start = today - datetime.timedelta(days=TREND_DAYS - 1)
    per_day = {}
    channel_today = {}
    rows = (
        cases.filter(created_at__gte=trend_start)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for day, channel, n in rows:
        per_day[day] = per_day.get(day, 0) + n
        if day == today.date():
            channel_today[channel] = channel_today.get(channel, 0) + n
    d.daily = [
        (day, per_day.get(day, 0))
        for day in (trend_start.date() + datetime.timedelta(days=i) for i in range(TREND_DAYS))
    ]
    labels = dict(Channel.choices)
    d.today_by_channel = sorted(
        ((str(labels.get(k, k)), n) for k, n in channel_today.items()), key=lambda kv: -kv[1]
    )
    d.today_received = sum(channel_today.values())

    # The one definition of "overdue" and "due soon" is the case QuerySet's.
    d.overdue = cases.overdue(now).count()
    d.due_soon = cases.due_within(now, DUE_SOON_HOURS).count()
    # Only open cases are counted: the state index serves the WHERE, closed ones are not read.
    counts = cases.filter(state__in=OPEN_STATES).aggregate(
        escalated=Count("pk", filter=Q(state__in=OPEN_STATES, escalation__level__gte=1)),
        **{f"state_{s}": Count("pk", filter=Q(state=s)) for s in OPEN_STATES},
    )
    d.escalated_open = counts["escalated"]
    state_labels = dict(State.choices)
    d.open_by_state = [(str(state_labels[s]), counts[f"state_{s}"]) for s in OPEN_STATES]
    d.open_total = sum(n for _label, n in d.open_by_state)

    breaches = SlaBreach.objects.filter(escalated_at__gte=today - datetime.timedelta(days=6))
    if not user.sees_all_departments:
        breaches = breaches.filter(case__in=cases)  # else a join over every case for nothing
    breaches = breaches.aggregate(
        week=Count("pk"), today=Count("pk", filter=Q(escalated_at__gte=today))
    )
    d.breaches_today, d.breaches_week = breaches["today"], breaches["week"]

    # Answers per score, counted by the database: Python sees five rows at most.
    scores = dict(
        Response.objects.filter(answered_at__gte=month_start, overall_score__isnull=False)
        .values_list("overall_score")
        .annotate(n=Count("pk"))
        .order_by()
    )
    d.satisfaction_answers = sum(scores.values())
    d.satisfaction_rate = metrics.satisfaction_rate_of_counts(scores)
    d.satisfaction_score = metrics.satisfaction_score_of_counts(scores)
    d.satisfaction_target = targets_at(now).satisfaction_rate
    d.satisfaction_meets_target = metrics.meets_target(d.satisfaction_rate, d.satisfaction_target)

    d.followups_due_today = FollowUp.objects.due_today(now).count()
    d.followups_overdue = FollowUp.objects.overdue(now).count()

    unclosed = Alert.objects.exclude(status=AlertStatus.CLOSED)
    d.alerts = list(unclosed.select_related("rule").order_by("-raised_at")[:5])
    d.alerts_open = unclosed.count()
    d.links = tile_links(month_start)
    return d


def tile_links(month_start):
    """The list behind each tile's number, filtered to exactly what the tile counts."""

    def url(name, **params):
        return f"{reverse(name)}?{urlencode(params)}"

    cases = "admin:complaints_case_changelist"
    return {
        "received": url(cases, received="today", state="all"),
        "open": url(cases, state="open"),
        "overdue": url(cases, overdue="yes"),
        "escalated": url(cases, escalated="any", state="open"),
        "satisfaction": url(
            "admin:callbacks_response_changelist",
            answered_at__year=month_start.year,
            answered_at__month=month_start.month,
            overall_score__isnull="False",
        ),
        "followups": url("admin:callbacks_followup_changelist", due="today"),
        "alerts": url(
            "admin:reports_alert_changelist",
            status__in=",".join([AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED]),
        ),
    }


def wants_dashboard(user):
    """Supervisors and managers (whoever may view alerts) get the dashboard as their index."""
    return user.is_active and user.has_perm("reports.view_alert")


def dashboard_page(user, now=None):
    """The figures plus their charts, for the admin index template."""
    from callbacks import charts
    from servicedesk.workforce import live

    d = dashboard_figures(user, now)
    # [(channel, contacts so far, forecast so far, forecast for the day)] — the staffing
    # forecast (cached), so a supervisor sees at once where intake runs ahead.
    d.intake_forecast = live.today_against_forecast(now)
    d.chart_daily = charts.column_chart(
        [(day.strftime("%m-%d"), n, str(n)) for day, n in d.daily],
        title=_("Cases received per day"),
        desc=_("The last %(days)s days, today last.") % {"days": TREND_DAYS},
        width=760,
    )
    d.chart_states = charts.bar_chart(
        [(label, n, str(n), None) for label, n in d.open_by_state],
        title=_("Open cases by state"),
        desc=_("Cases not yet closed, by where they are in the workflow."),
        width=480,
    )
    d.chart_channels = (
        charts.bar_chart(
            [(label, n, str(n), None) for label, n in d.today_by_channel],
            title=_("Received today by channel"),
            desc=_("Cases received since midnight, by the channel they came in."),
            width=480,
        )
        if d.today_by_channel
        else ""
    )
    return d
