"""Signals the case workflows send: higher apps connect to them instead of being imported by
complaints (see complaints.services)."""

from django.dispatch import Signal

# Sent after commit. Higher apps (deadlines, surveys, reports) connect to these instead of
# being imported here: `sender=Case, case=..., event=...`.
case_created = Signal()
case_transitioned = Signal()
case_contact_added = Signal()
# Sent inside the transaction that bulk-created timeline entries (intake, the escalation
# sweep), since bulk_create sends no post_save: `sender=Case, events=[CaseEvent, ...]` — each
# with its case attached (on PostgreSQL's set-based sweep, entries built from what it wrote).
# `events` may instead be a callable returning that list, with `kinds` the EventKinds among
# them: a receiver with nothing to do for those kinds then never builds 100,000 instances.
case_events_bulk_created = Signal()
