"""A case's escalation schedule: when the sweep next looks at the case and the highest level it
has reached. A narrow table of its own, not columns of the case: the sweep rewrites these two
values for every case it claims, and a row of complaints_case carries some twenty indexes, so
every rewrite there was a non-HOT update writing an entry into each of them. Here a rewrite
touches two small partial indexes, and the sweep never writes (or locks) a case row.

A row exists for a case whenever it has a next look or a level above 0 (Case.save writes it;
Case.escalation_level and Case.next_escalation_at read it)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models_case import Case


class CaseEscalation(models.Model):
    case = models.OneToOneField(
        Case,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="escalation",
        verbose_name=_("case"),
    )
    next_at = models.DateTimeField(_("next escalation check"), null=True, blank=True)
    level = models.PositiveSmallIntegerField(_("escalation level"), default=0)

    class Meta:
        verbose_name = _("case escalation")
        verbose_name_plural = _("case escalations")
        indexes = [
            # The sweep's claim: only cases with a deadline ahead are in it.
            models.Index(
                fields=["next_at"],
                name="escalation_next_at_idx",
                condition=Q(next_at__isnull=False),
            ),
            # The 已升级 filter and the dashboard tile: only escalated cases are in it.
            models.Index(fields=["level"], name="escalation_level_idx", condition=Q(level__gte=1)),
        ]

    def __str__(self):
        return f"{self.case_id}: L{self.level}"


def write_escalations(cases):
    """Write what was set on these saved cases' escalation_level / next_escalation_at into
    their escalation rows: one statement (an insert that updates a row already there) for the
    lot, and none for a case whose values equal its loaded row. A case whose row was not
    loaded (select_related("escalation")) writes only the values set on it, without reading
    the row first. Keeps each case's cached row in step. (A new case's row goes in with the
    case: Case.save_new.)"""
    for fields, items in _pending_escalations(cases).items():
        rows = [CaseEscalation(case_id=case.pk, **values) for case, values in items]
        CaseEscalation.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["case"], update_fields=list(fields)
        )
        escalations_written(items, rows)


def new_case_escalation(case):
    """([row], items) for a new case not saved yet whose escalation values were set (its
    deadlines), else ([], []): the row to insert with it; escalations_written() after."""
    items = [item for group in _pending_escalations([case]).values() for item in group]
    return [CaseEscalation(**values) for _case, values in items], items


def _pending_escalations(cases):
    """{sorted field names: [(case, values)]} of the cases whose escalation values differ
    from their loaded row (or were set without it loaded)."""
    groups = {}
    for case in cases:
        pending = case.__dict__.get("_escalation_pending")
        if not pending:
            continue
        rel = Case.escalation.related
        if rel.is_cached(case):
            row = rel.get_cached_value(case)
            stored = (row.level, row.next_at) if row is not None else (0, None)
            values = {"level": case.escalation_level, "next_at": case.next_escalation_at}
            if (values["level"], values["next_at"]) == stored:
                case.__dict__.pop("_escalation_pending", None)
                continue
        else:
            values = dict(pending)
        groups.setdefault(tuple(sorted(values)), []).append((case, values))
    return groups


def escalations_written(items, rows):
    for (case, values), row in zip(items, rows, strict=True):
        if len(values) == 2:
            case._escalation_written(row)
        else:  # the other value was not read: read the row when next asked
            case._forget_escalation()
