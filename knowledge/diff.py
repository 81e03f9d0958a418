"""Differences between two revisions of a plan: field by field, and the stage and resource rows
added, removed or changed (stages matched by code, resources by kind and name)."""

from dataclasses import dataclass, field

from .models import PlanResource, PlanRevision, PlanStage
from .text import normalise_newlines

REVISION_FIELDS = [
    "objectives",
    "first_response_hours",
    "satisfaction_target_pct",
    "urgency_high_hours",
    "urgency_medium_working_days",
    "urgency_low_hours",
    "reporting_path",
    "risk_triggers",
    "change_summary",
]
STAGE_FIELDS = ["order", "name", "time_limit", "unit", "starts", "responsible_role", "description"]
RESOURCE_FIELDS = ["order", "quantity", "location", "notes"]


@dataclass
class FieldChange:
    name: str
    label: str
    old: str
    new: str


@dataclass
class RowChange:
    key: str
    label: str
    status: str  # "added", "removed" or "changed"
    changes: list = field(default_factory=list)


@dataclass
class RevisionDiff:
    old: PlanRevision
    new: PlanRevision
    fields: list
    stages: list
    resources: list

    @property
    def has_changes(self):
        return bool(self.fields or self.stages or self.resources)


def _display(obj, name):
    model_field = obj._meta.get_field(name)
    value = getattr(obj, f"get_{name}_display")() if model_field.choices else getattr(obj, name)
    if value is None:
        return "—"
    if hasattr(value, "normalize"):
        return f"{value.normalize():f}"
    # Line endings alone are no difference (rows saved before they were normalised).
    return normalise_newlines(str(value))


def _field_changes(model, old, new, names):
    changes = []
    for name in names:
        a, b = _display(old, name), _display(new, name)
        if a != b:
            label = str(model._meta.get_field(name).verbose_name)
            changes.append(FieldChange(name, label, a, b))
    return changes


def _row_changes(model, old_rows, new_rows, key, label, names):
    old_by_key = {key(r): r for r in old_rows}
    new_by_key = {key(r): r for r in new_rows}
    out = []
    for k, row in new_by_key.items():
        if k not in old_by_key:
            values = [
                FieldChange(n, str(model._meta.get_field(n).verbose_name), "—", _display(row, n))
                for n in names
            ]
            out.append(RowChange(str(k), label(row), "added", values))
        else:
            changes = _field_changes(model, old_by_key[k], row, names)
            if changes:
                out.append(RowChange(str(k), label(row), "changed", changes))
    for k, row in old_by_key.items():
        if k not in new_by_key:
            out.append(RowChange(str(k), label(row), "removed"))
    return out


def revision_diff(old, new):
    """What changed from revision `old` to revision `new` (any two revisions of a plan)."""
    stages = _row_changes(
        PlanStage,
        list(old.stages.all()),
        list(new.stages.all()),
        key=lambda s: s.code,
        label=lambda s: f"{s.name} ({s.code})",
        names=STAGE_FIELDS,
    )
    resources = _row_changes(
        PlanResource,
        list(old.resources.all()),
        list(new.resources.all()),
        key=lambda r: f"{r.kind}:{r.name}",
        label=lambda r: f"{r.get_kind_display()}: {r.name}",
        names=RESOURCE_FIELDS,
    )
    return RevisionDiff(
        old=old,
        new=new,
        fields=_field_changes(PlanRevision, old, new, REVISION_FIELDS),
        stages=stages,
        resources=resources,
    )
