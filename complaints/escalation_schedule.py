"""Case.escalation_level and Case.next_escalation_at: properties over the case's CaseEscalation
row (complaints.models_escalation), mixed into Case. Read from the row (select_related
("escalation") for many cases); a value set here is pending until Case.save() writes the row
(models_escalation.write_escalations)."""

from django.core.exceptions import ObjectDoesNotExist

ESCALATION_FIELDS = ("escalation_level", "next_escalation_at")


class EscalationScheduleMixin:
    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        if fields is not None:
            fields = list(fields)
            if set(fields) & set(ESCALATION_FIELDS):
                fields = [f for f in fields if f not in ESCALATION_FIELDS]
                self._forget_escalation()
            if not fields:
                return
        else:
            self._forget_escalation()
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)

    @property
    def escalation_level(self):
        return self._scheduled("level", 0)

    @escalation_level.setter
    def escalation_level(self, value):
        self._schedule("level", value)

    @property
    def next_escalation_at(self):
        return self._scheduled("next_at", None)

    @next_escalation_at.setter
    def next_escalation_at(self, value):
        self._schedule("next_at", value)

    def _scheduled(self, name, default):
        """The escalation row's `name`: the value set and not yet saved, else the row's."""
        pending = self.__dict__.get("_escalation_pending", {})
        if name in pending:
            return pending[name]
        row = self._escalation_row()
        return getattr(row, name) if row is not None else default

    def _schedule(self, name, value):
        self.__dict__.setdefault("_escalation_pending", {})[name] = value

    def _escalation_row(self):
        """The CaseEscalation row (None when there is none); a query unless loaded."""
        try:
            return self.escalation
        except ObjectDoesNotExist:
            return None

    def _escalation_written(self, row):
        self.__dict__.pop("_escalation_pending", None)
        type(self).escalation.related.set_cached_value(self, row)
        row.case = self

    def _forget_escalation(self):
        self.__dict__.pop("_escalation_pending", None)
        rel = type(self).escalation.related
        if rel.is_cached(self):
            rel.delete_cached_value(self)
