"""Reports' workflows: stored report workbooks, on-demand exports, early-warning alerts.

Keyword-only functions named <entity>_<action>; the admin, the API and the tasks call these
and nothing else writes Report, Export or Alert rows.
"""

import datetime
import os
import tempfile

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from callbacks.models import Response
from complaints import privacy, sla
from complaints.models import Case, CaseType, PrivacyAction, State
from knowledge.targets import targets_at
from servicedesk import outbox
from servicedesk.staff import roles
from servicedesk.staff.models import User
from servicedesk.staff.services import notify

from . import alerts, alerts_volume, data, exports, request_record, workbook
from .models import (
    Alert,
    AlertRule,
    AlertStatus,
    Export,
    ExportKind,
    ExportStatus,
    Indicator,
    Report,
    ReportKind,
)

# Reports ---------------------------------------------------------------------------------


def _report_temp_path():
    """A temporary file beside the stored ones: a large workbook does not fill /tmp."""
    folder = os.path.join(settings.MEDIA_ROOT, "tmp")
    os.makedirs(folder, exist_ok=True)
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="report-", dir=folder)
    os.close(handle)
    return path


def _report_filename(kind, start, end, language):
    if kind == ReportKind.MONTHLY:
        return f"monthly-report-{start:%Y-%m}-{language}.xlsx"
    return f"report-{start:%Y%m%d}-{end:%Y%m%d}-{language}.xlsx"


def _current_monthly(start, language):
    return Report.objects.filter(
        kind=ReportKind.MONTHLY, period_start=start, language=language, is_current=True
    ).first()


def report_generate(
    *, start, end, kind=ReportKind.PERIOD, user=None, language=None, force=False, now=None
):
    """Build the report workbook for the dates start..end (both included) and store it.

    A monthly report (a whole calendar month) is kept once per month and language: asked for
    again it returns the stored one, unless `force`, which stores a new one as the current
    report and keeps the previous one listed as not current. A report for any other period
    is stored every time. `user` None means the scheduler. Raises ValidationError (field
    errors) for a bad period, kind or language; nothing is stored then. The workbook is
    streamed to a temporary file under MEDIA_ROOT, then saved through the file storage.
    """
    language = language or settings.LANGUAGE_CODE
    if kind not in ReportKind.values:
        raise ValidationError({"kind": _("Choose a monthly report or a report for a period.")})
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("This language is not available.")})
    if start > end:
        raise ValidationError({"end": _("The end of the period is before its start.")})
    if kind == ReportKind.MONTHLY and (start.day != 1 or end != data.month_end(start)):
        raise ValidationError({"start": _("A monthly report covers one whole calendar month.")})
    if kind == ReportKind.MONTHLY and not force:
        existing = _current_monthly(start, language)
        if existing is not None:
            return existing

    now = now or timezone.now()
    figures = data.period_figures(start, end, now=now)
    path = _report_temp_path()
    report = Report(
        kind=kind, period_start=start, period_end=end, language=language,
        generated_at=now, generated_by=user,
    )  # fmt: skip
    try:
        report.row_counts = workbook.build_workbook(
            figures, data.case_rows(start, end, now=now), path, language
        )
        report.size = os.path.getsize(path)
        with open(path, "rb") as handle:
            report.file.save(_report_filename(kind, start, end, language), File(handle), save=False)
        try:
            with transaction.atomic():
                if kind == ReportKind.MONTHLY and force:
                    Report.objects.select_for_update().filter(
                        kind=kind, period_start=start, language=language, is_current=True
                    ).update(is_current=False)
                report.save()
        except IntegrityError:
            # Another run stored this month's report meanwhile (the scheduler twice, or a
            # double click): one current report, and it is that one.
            existing = _current_monthly(start, language)
            if existing is None:
                raise
            return existing
    finally:
        os.remove(path)
        if report.pk is None and report.file:
            report.file.storage.delete(report.file.name)
    return report


def monthly_report_generate(*, today=None, force=False):
    """The previous month's report, in the site's language, made by the scheduler (once:
    an existing one is returned unless `force`); the managers are told it is ready (once
    per report, in the app and by e-mail)."""
    start, end = data.previous_month(today or timezone.localdate())
    report = report_generate(
        start=start, end=end, kind=ReportKind.MONTHLY, language=settings.LANGUAGE_CODE,
        force=force,
    )  # fmt: skip
    with translation.override(report.language):
        notify(
            recipients=User.objects.in_role(roles.MANAGER),
            event_key=f"report:{report.pk}",
            subject=_("Monthly report %(month)s is ready") % {"month": f"{start:%Y-%m}"},
            body=_(
                "The monthly report for %(start)s – %(end)s can be downloaded from the reports list."
            )
            % {"start": start.isoformat(), "end": end.isoformat()},
            link=reverse("admin:reports_report_change", args=[report.pk]),
        )
    return report


# Exports ---------------------------------------------------------------------------------

PERSONAL_DATA = "complaints.view_personal_data"
# The report workbooks are for managers (Report's own permission); a supervisor exports the
# period's cases instead.
REPORT_DOWNLOAD = "reports.download_report"


def _export_period(filters):
    """The report period of an export's filters: (from, to) dates, or field errors."""
    errors, dates = {}, {}
    for key in ("from", "to"):
        value = filters.get(key)
        if isinstance(value, datetime.date):
            dates[key] = value
            continue
        try:
            dates[key] = datetime.date.fromisoformat(str(value or ""))
        except ValueError:
            errors[key] = _("Enter a valid date.")
    if errors:
        raise ValidationError(errors)
    if dates["from"] > dates["to"]:
        raise ValidationError({"to": _("The end of the period is before its start.")})
    return dates["from"], dates["to"]


def export_request(*, kind, user, filters, filter_description="", now=None):
    """Register an on-demand export by `user` and run it in the background once the
    transaction commits. `filters`: {"query": <the case change list's query string>} for a
    case list, {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"} for a report for a period; the
    language (of the column titles) defaults to the active one. Personal data is masked for
    users without complaints.view_personal_data, and the row says so."""
    if not user.has_perm("reports.add_export"):
        raise PermissionDenied(_("You are not allowed to export."))
    filters = dict(filters or {})
    filters["language"] = filters.get("language") or translation.get_language()
    if kind == ExportKind.CASES:
        filters["query"] = exports.clean_query(filters.get("query", ""))
        if not filters.get("layout"):
            filters.pop("layout", None)
        elif filters["layout"] != request_record.LAYOUT:
            raise ValidationError({"layout": _("Choose a known export layout.")})
        # Replayed now too: a filter the case list refuses is a field error, not a failed job.
        changelist = exports.case_changelist(user=user, query=filters["query"])
        filter_description = filter_description or exports.describe(changelist)
    elif kind == ExportKind.REPORT:
        if not user.has_perm(REPORT_DOWNLOAD):
            raise PermissionDenied(_("You are not allowed to export report workbooks."))
        start, end = _export_period(filters)
        filters.update({"from": start.isoformat(), "to": end.isoformat()})
        filter_description = filter_description or _("%(start)s – %(end)s") % {
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
    else:
        raise ValidationError({"kind": _("Choose what to export.")})
    export = Export.objects.create(
        kind=kind,
        requested_by=user,
        requested_at=now or timezone.now(),
        filters=filters,
        filter_description=filter_description,
        # The report workbook's case list is masked, and so is the 002 layout (reports.workbook,
        # request_record).
        masked=kind == ExportKind.REPORT
        or filters.get("layout") == request_record.LAYOUT
        or not user.has_perm(PERSONAL_DATA),
    )
    if not export.masked:
        privacy.log_access(
            user=user,
            action=PrivacyAction.EXPORTED,
            where=_("case export %(id)s") % {"id": export.pk},
            detail=filter_description,
        )
    from .tasks import export_run as task

    outbox.enqueue_on_commit(task, export.pk)
    return export


def export_run(*, export_id, retryable=False, now=None):
    """Run one export: claim it, count, stream the rows (progress saved every
    exports.PROGRESS_EVERY rows), store the file. Idempotent: an export already running or
    done is left alone (None is returned) — except one whose worker stopped beating (see
    export_sweep). An I/O error puts the export back in the queue when the task will retry
    (`retryable`); any other error marks it failed with the message."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.EXPORT_STALE_SECONDS)
    # The claim is one conditional UPDATE: two deliveries of the same task never both run.
    claimed = (
        Export.objects.filter(pk=export_id)
        .filter(
            Q(status=ExportStatus.QUEUED) | Q(status=ExportStatus.RUNNING, heartbeat_at__lt=stale)
        )
        .update(
            status=ExportStatus.RUNNING, started_at=now, heartbeat_at=now, rows_done=0, error="",
            attempts=F("attempts") + 1,
        )
    )  # fmt: skip
    if not claimed:
        return None
    with outbox.heartbeat(
        Export, export_id, field="heartbeat_at", every=settings.EXPORT_HEARTBEAT_SECONDS
    ):
        return _export_run_claimed(export_id, retryable=retryable)


def export_sweep(*, now=None):
    """Every minute: exports whose worker died (no heartbeat for EXPORT_STALE_SECONDS) run
    again, or fail with a message after EXPORT_ATTEMPTS; exports queued while the broker was
    down (or whose message it lost) are enqueued again. Returns (requeued, failed)."""
    from .tasks import export_run as task

    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.EXPORT_STALE_SECONDS)
    dead = Export.objects.filter(status=ExportStatus.RUNNING, heartbeat_at__lt=stale)
    failed = dead.filter(attempts__gte=settings.EXPORT_ATTEMPTS).update(
        status=ExportStatus.FAILED, finished_at=now,
        error=_("The export was interrupted %(n)s times (its worker stopped). Please request "
                "it again; if it fails again, ask an administrator.")
        % {"n": settings.EXPORT_ATTEMPTS},
    )  # fmt: skip
    dead.update(
        status=ExportStatus.QUEUED, rows_done=0, heartbeat_at=None,
        error=_("Interrupted (its worker stopped); restarted automatically."),
    )  # fmt: skip
    # Queued and not picked up for a while: the task message is lost (broker down or
    # restarted). A second message is harmless: the run's claim is conditional.
    waiting = Export.objects.filter(status=ExportStatus.QUEUED).filter(
        Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, requested_at__lt=stale)
    )
    ids = list(waiting.values_list("pk", flat=True)[:500])
    Export.objects.filter(pk__in=ids).update(heartbeat_at=now)
    for pk in ids:
        outbox.enqueue(task, pk)
    return len(ids), failed


def _export_run_claimed(export_id, *, retryable):
    export = Export.objects.select_related("requested_by").get(pk=export_id)
    try:
        with translation.override(export.filters.get("language") or settings.LANGUAGE_CODE):
            if export.kind == ExportKind.REPORT:
                values = _export_run_report(export)
            else:
                values = _export_run_cases(export)
    except ValidationError as exc:
        _export_failed(export, " ".join(exc.messages))
        export.refresh_from_db()
        return export
    except OSError as exc:
        if retryable:
            Export.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
                status=ExportStatus.QUEUED, error=str(exc)
            )
        else:
            _export_failed(export, str(exc))
        raise
    except Exception as exc:
        _export_failed(export, f"{type(exc).__name__}: {exc}")
        raise
    finished = Export.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.DONE, finished_at=timezone.now(), **values
    )
    if not finished and export.kind == ExportKind.CASES:
        export.file.storage.delete(values["file"])  # reclaimed meanwhile: keep one file
    export.refresh_from_db()
    return export


def _export_failed(export, message):
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.FAILED, error=message[:2000], finished_at=timezone.now()
    )


def _export_run_cases(export):
    changelist = exports.case_changelist(
        user=export.requested_by, query=export.filters.get("query", "")
    )
    Export.objects.filter(pk=export.pk).update(total_rows=changelist.result_count)

    def progress(rows_done):
        # A cheap UPDATE the admin page polls; never inside a long transaction.
        Export.objects.filter(pk=export.pk).update(rows_done=rows_done)

    path = _report_temp_path()  # beside the stored files, like the reports'
    try:
        if export.filters.get("layout") == request_record.LAYOUT:
            rows = request_record.write(
                path, exports.case_queryset(changelist), on_progress=progress
            )
        else:
            rows = exports.write_cases(
                path, exports.case_queryset(changelist), masked=export.masked, on_progress=progress
            )
        stamp = timezone.localtime(export.requested_at).strftime("%Y%m%d-%H%M")
        with open(path, "rb") as handle:
            name = export.file.storage.save(
                export.file.field.generate_filename(
                    export, f"{export.filters.get('layout') or 'cases'}-{stamp}-{export.pk}.xlsx"
                ),
                File(handle),
            )
        size = os.path.getsize(path)
    finally:
        os.remove(path)
    # The count may move while the rows stream; the file holds `rows`.
    return {"file": name, "size": size, "total_rows": rows, "rows_done": rows}


def _export_run_report(export):
    start, end = _export_period(export.filters)
    report = report_generate(
        start=start,
        end=end,
        kind=ReportKind.PERIOD,
        user=export.requested_by,
        language=export.filters.get("language") or settings.LANGUAGE_CODE,
        force=True,
    )
    # Rows: the workbook's case list (its other sheets are summaries).
    counts = report.row_counts or {}
    cases_title = str(dict(workbook.SHEETS).get("cases", ""))
    rows = counts.get(cases_title, sum(n for n in counts.values() if isinstance(n, int)))
    # The export points at the stored report's file: one file, two records.
    return {"file": report.file.name, "size": report.size, "total_rows": rows, "rows_done": rows}


def export_record_download(*, export, now=None):
    """Count one download of the export's file (the audit)."""
    Export.objects.filter(pk=export.pk).update(
        download_count=F("download_count") + 1, downloaded_at=now or timezone.now()
    )


# Alerts ----------------------------------------------------------------------------------

# Duplicates merged into another case and cancelled spam are not cases anyone worked.
_NOT_WORKED = [State.MERGED, State.CANCELLED]

# In which states a deadline not yet met is still to meet (as Case.pending_deadlines reads
# it for one case): a deadline of a case that ended before reaching the stage is not a miss.


def _rule_cases(rule):
    cases = Case.objects.exclude(state__in=_NOT_WORKED)
    if rule.department_id:
        cases = cases.filter(department_id=rule.department_id)
    return cases


def _measure_first_response(rule, window, threshold):
    # One query; the median needs the values, read as plain tuples.
    pairs = (
        _rule_cases(rule)
        .filter(
            created_at__gte=window.start,
            created_at__lt=window.end,
            first_response_at__isnull=False,
        )
        .values_list("created_at", "first_response_at")
    )
    hours = [(answered - received).total_seconds() / 3600 for received, answered in pairs]
    return alerts.first_response_median(
        hours, threshold=threshold, min_count=rule.min_count, window=window
    )


def _measure_sla(rule, window, threshold):
    """One aggregate over the five deadline columns: per stage, the deadlines that fell due in
    the window, and of those the ones met (the report's reading: data.stage_counted/met)."""
    counts, any_due = {}, Q()
    for stage, (due, _done) in sla.CASE_STAGES.items():
        end = window.end
        counts[f"{stage}__due"] = Count(
            "pk", filter=data.stage_counted(stage, window.start, end, end)
        )
        counts[f"{stage}__met"] = Count("pk", filter=data.stage_met(stage, window.start, end))
        any_due |= Q(**{f"{due}__gte": window.start, f"{due}__lt": end})
    figures = _rule_cases(rule).filter(any_due).aggregate(**counts)
    missed_by_stage = {
        stage: figures[f"{stage}__due"] - figures[f"{stage}__met"] for stage in sla.CASE_STAGES
    }
    return alerts.sla_breach_rate(
        due=sum(figures[f"{stage}__due"] for stage in sla.CASE_STAGES),
        missed=sum(missed_by_stage.values()),
        missed_by_stage=missed_by_stage,
        threshold=threshold,
        min_count=rule.min_count,
        window=window,
    )


def _measure_rise(rule, window, threshold):
    """One grouped query: complaints per category (or product) in the window and the one
    before."""
    field = "category" if rule.indicator == Indicator.CATEGORY_RISE else "product"
    complaints = _rule_cases(rule).filter(
        type=CaseType.COMPLAINT,
        created_at__gte=window.previous_start,
        created_at__lt=window.end,
    )
    if field == "product":
        complaints = complaints.exclude(product="")
    rows = (
        complaints.values(field)
        .annotate(
            current=Count("pk", filter=Q(created_at__gte=window.start)),
            previous=Count("pk", filter=Q(created_at__lt=window.start)),
        )
        .order_by()
    )
    counts = {row[field]: (row["current"], row["previous"]) for row in rows}
    return alerts.complaint_rise(
        counts,
        indicator=rule.indicator,
        threshold=threshold,
        min_count=rule.min_count,
        window=window,
    )


def _measure_satisfaction(rule, window, threshold):
    answers = Response.objects.filter(
        answered_at__gte=window.start, answered_at__lt=window.end, overall_score__range=(1, 5)
    )
    if rule.department_id:
        answers = answers.filter(department_id=rule.department_id)
    # One grouped query: votes per score, expanded for the handbook formulas.
    votes = answers.values_list("overall_score").annotate(n=Count("pk")).order_by()
    scores = [score for score, n in votes for _ in range(n)]
    return alerts.satisfaction_below(
        scores, threshold=threshold, min_count=rule.min_count, window=window
    )


_MEASURES = {
    Indicator.FIRST_RESPONSE_MEDIAN: _measure_first_response,
    Indicator.SLA_BREACH_RATE: _measure_sla,
    Indicator.CATEGORY_RISE: _measure_rise,
    Indicator.PRODUCT_RISE: _measure_rise,
    Indicator.SATISFACTION_BELOW: _measure_satisfaction,
    Indicator.VOLUME_OVER_FORECAST: alerts_volume.measure_volume,
}


def alert_rule_threshold(rule, now):
    """The rule's threshold at `now`: a rule that follows the plan takes the target of the
    plan in force (first-response hours, satisfaction %); otherwise its own figure."""
    if rule.follows_plan:
        targets = targets_at(now)
        if rule.indicator == Indicator.FIRST_RESPONSE_MEDIAN:
            return targets.first_response_hours
        if rule.indicator == Indicator.SATISFACTION_BELOW:
            return targets.satisfaction_percent
    return rule.threshold


def alert_rule_measure(*, rule, now):
    """The rule's alerts.Evaluation at `now` (reads only; one query, two with the plan)."""
    department = rule.department.name if rule.department_id else None
    window = alerts.Window.ending(now, rule.window_days, department)
    return _MEASURES[rule.indicator](rule, window, alert_rule_threshold(rule, now))


def alerts_evaluate(*, now=None):
    """Evaluate every active rule; returns {"rules", "raised", "still", "cleared"} counts.

    A breach raises one Alert per (rule, subject) and notifies the rule's recipients (the
    managers when it names none) in the app and by e-mail. While the alert is not closed,
    later breaches only refresh its figures; when the indicator comes back inside the
    threshold the alert is marked back to normal (`cleared_at`) and stays until a person
    closes it. A breach after closing raises a new alert. Safe to run concurrently: the
    unique "one unclosed alert per rule and subject" constraint and the notification's
    event key make a second run raise and send nothing.
    """
    now = now or timezone.now()
    rules = list(
        AlertRule.objects.filter(is_active=True)
        .select_related("department")
        .prefetch_related("recipients")
    )
    unclosed = {}
    for alert in Alert.objects.filter(rule__in=[r.pk for r in rules]).exclude(
        status=AlertStatus.CLOSED
    ):
        unclosed.setdefault(alert.rule_id, {})[alert.subject] = alert
    managers = []
    totals = {"rules": len(rules), "raised": 0, "still": 0, "cleared": 0}
    for rule in rules:
        evaluation = alert_rule_measure(rule=rule, now=now)
        recipients = list(rule.recipients.all())
        if not recipients and evaluation.breaches:
            managers = managers or list(User.objects.in_role(roles.MANAGER))
            recipients = managers
        with transaction.atomic():
            counts = _alerts_apply(rule, evaluation, unclosed.get(rule.pk, {}), now, recipients)
        for key, n in counts.items():
            totals[key] += n
    return totals


def _alerts_apply(rule, evaluation, open_alerts, now, recipients):
    raised = cleared = 0
    refreshed = []
    for breach in evaluation.breaches:
        alert = open_alerts.get(breach.subject)
        if alert is None:
            alert, created = _alert_raise(rule, breach, now)
            if created:
                raised += 1
                _alert_notify(alert, recipients)
                continue
        alert.figures, alert.message = breach.figures, breach.message
        alert.last_checked_at, alert.cleared_at = now, None
        refreshed.append(alert)
    if refreshed:
        Alert.objects.bulk_update(
            refreshed, ["figures", "message", "last_checked_at", "cleared_at"]
        )
    if evaluation.measured:
        normal = [a.pk for s, a in open_alerts.items() if s not in evaluation.subjects]
        if normal:
            normal = Alert.objects.filter(pk__in=normal).exclude(status=AlertStatus.CLOSED)
            cleared = normal.filter(cleared_at__isnull=True).count()
            normal.update(last_checked_at=now, cleared_at=Coalesce("cleared_at", Value(now)))
    return {"raised": raised, "still": len(refreshed), "cleared": cleared}


def _alert_raise(rule, breach, now):
    """(alert, created): a new alert, or the unclosed one another run raised meanwhile."""
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                subject=breach.subject,
                figures=breach.figures,
                message=breach.message,
                raised_at=now,
                last_checked_at=now,
            )
        return alert, True
    except IntegrityError:
        alert = Alert.objects.exclude(status=AlertStatus.CLOSED).get(
            rule=rule, subject=breach.subject
        )
        return alert, False


def _alert_notify(alert, recipients):
    label = alerts.subject_label(alert.rule.indicator, alert.subject)
    if alert.subject:
        subject = _("Early warning: %(rule)s — %(subject)s") % {
            "rule": alert.rule.name,
            "subject": label,
        }
    else:
        subject = _("Early warning: %(rule)s") % {"rule": alert.rule.name}
    lines = [f"{label}: {value}" for label, value in alerts.figure_rows(alert.figures)]
    notify(
        recipients=recipients,
        event_key=f"alert:{alert.pk}",
        subject=subject,
        body="\n".join([alert.message, "", *lines]),
        link=reverse("admin:reports_alert_change", args=[alert.pk]),
        email=True,
    )


def _locked_alert(alert, user):
    if not user.has_perm("reports.change_alert"):
        raise PermissionDenied(_("You may not acknowledge or close alerts."))
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.status == AlertStatus.CLOSED:
        raise ValidationError(_("This alert is already closed."))
    return locked


def alert_acknowledge(*, alert, user):
    """Someone is looking into it: open → acknowledged (acknowledging twice changes nothing)."""
    with transaction.atomic():
        locked = _locked_alert(alert, user)
        if locked.status == AlertStatus.OPEN:
            locked.status = AlertStatus.ACKNOWLEDGED
            locked.acknowledged_by, locked.acknowledged_at = user, timezone.now()
            locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    return locked


def alert_close(*, alert, user, note):
    """Closed with a note saying what was done; a later breach raises a new alert."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say what was done about it before closing.")})
    with transaction.atomic():
        locked = _locked_alert(alert, user)
        now = timezone.now()
        if locked.acknowledged_at is None:
            locked.acknowledged_by, locked.acknowledged_at = user, now
        locked.status = AlertStatus.CLOSED
        locked.closed_by, locked.closed_at, locked.note = user, now, note
        locked.save(
            update_fields=[
                "status", "acknowledged_by", "acknowledged_at", "closed_by", "closed_at", "note",
            ]
        )  # fmt: skip
    return locked
