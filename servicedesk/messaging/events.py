"""Webhook events from the lower apps, without them importing this one: each timeline entry,
survey answer and alert is saved inside the transaction that caused it, so a `post_save`
receiver writes the event into the outbox in that same transaction."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from callbacks.models import Response
from complaints.models import Case, CaseEvent, EventKind
from complaints.services import cases_escalated
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


@receiver(post_save, sender=CaseEvent, dispatch_uid="messaging_case_event")
def _case_event(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    kind = instance.kind
    types = []
    if kind == EventKind.CREATED:
        types.append("case.created")
    elif kind == EventKind.TRANSITION:
        types.append("case.state_changed")
        if instance.transition == "assign":
            types.append("case.assigned")
    elif kind == EventKind.ESCALATION:
        types.append("case.escalated")
    if not types:
        return
    data = {
        "from_state": instance.from_state or None,
        "to_state": instance.to_state or None,
        "transition": instance.transition or None,
        "timeline_event": instance.pk,
    }
    for t in types:
        webhooks.event_emit(type=t, case=instance.case, data=data, now=instance.created_at)


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


@receiver(cases_escalated, sender=Case, dispatch_uid="messaging_cases_escalated")
def _cases_escalated(sender, events, **kwargs):
    webhooks.events_emit_many(
        type="case.escalated",
        items=[
            (
                e.case,
                {
                    "stage": e.data.get("stage"),
                    "level": e.data.get("level"),
                    "due_at": e.data.get("due_at"),
                },
            )
            for e in events
        ],
        now=events[0].created_at if events else None,
    )
