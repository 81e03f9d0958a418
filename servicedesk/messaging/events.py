"""Webhook events from the lower apps, without them importing this one: each timeline entry,
survey answer and alert is saved inside the transaction that caused it, so a `post_save`
receiver writes the event into the outbox in that same transaction."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from callbacks.models import Response
from complaints.models import Case, CaseEvent, EventKind
from complaints.services import case_events_bulk_created
from servicedesk.reports.models import Alert

from . import webhooks
from .models import WebhookSubscription

post_save.connect(
    webhooks.subscriptions_changed, sender=WebhookSubscription, dispatch_uid="messaging_subs_saved"
)
post_delete.connect(
    webhooks.subscriptions_changed,
    sender=WebhookSubscription,
    dispatch_uid="messaging_subs_deleted",
)


# The webhook event types each kind of timeline entry may stand for (_event_types).
KIND_TYPES = {
    EventKind.ESCALATION: ("case.escalated",),
    EventKind.CREATED: ("case.created",),
    EventKind.TRANSITION: ("case.state_changed", "case.assigned"),
}


def _event_types(event):
    """The webhook event types a timeline entry stands for, and their data."""
    # Of what the kind may stand for, an assignment only when the transition is one.
    types = [
        t
        for t in KIND_TYPES.get(event.kind, ())
        if t != "case.assigned" or event.transition == "assign"
    ]
    if event.kind == EventKind.ESCALATION:
        data = event.data or {}
        return types, {
            "stage": data.get("stage"),
            "level": data.get("level"),
            "due_at": data.get("due_at"),
            "timeline_event": event.pk,
        }
    data = {
        "from_state": event.from_state or None,
        "to_state": event.to_state or None,
        "transition": event.transition or None,
        "timeline_event": event.pk,
    }
    return types, data


@receiver(post_save, sender=CaseEvent, dispatch_uid="messaging_case_event")
def _case_event(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    types, data = _event_types(instance)
    for t in types:
        webhooks.event_emit(type=t, case=instance.case, data=data, now=instance.created_at)


@receiver(case_events_bulk_created, sender=Case, dispatch_uid="messaging_case_events_bulk")
def _case_events_bulk_created(sender, events, kinds=None, **kwargs):
    """Timeline entries written in bulk (intake, the escalation sweep) send no post_save: the
    same events as one by one, a few queries per type whatever the count; nothing at all
    (not even the entries built) when no subscription wants what those kinds stand for."""
    if kinds is not None and not any(
        webhooks.has_subscribers(t) for kind in kinds for t in KIND_TYPES.get(kind, ())
    ):
        return
    if callable(events):
        events = events()
    by_type = {}
    for event in events:
        types, data = _event_types(event)
        for t in types:
            by_type.setdefault(t, []).append((event, data))
    for t, items in by_type.items():
        if not webhooks.has_subscribers(t):
            continue
        missing = {e.case_id for e, _d in items if not CaseEvent.case.is_cached(e)}
        loaded = Case.objects.select_related("department").in_bulk(missing) if missing else {}
        webhooks.events_emit_many(
            type=t,
            items=[
                # not .get(): e.case would be read (a query) even when loaded holds it
                (loaded[e.case_id] if e.case_id in loaded else e.case, data)  # noqa: SIM401
                for e, data in items
            ],
            now=items[0][0].created_at,
        )


@receiver(post_save, sender=Response, dispatch_uid="messaging_survey_answered")
def _survey_answered(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        webhooks.event_emit(
            type="survey.answered",
            case=instance.case if instance.case_id else None,
            data={"response": instance.pk},
        )


@receiver(post_save, sender=Alert, dispatch_uid="messaging_alert_raised")
def _alert_raised(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        webhooks.event_emit(
            type="alert.raised",
            data={"alert": instance.pk, "subject": instance.subject, "message": instance.message},
        )
