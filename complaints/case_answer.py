"""A case as the API answers it (CaseSerializer), built directly.

Intake answers every create with the new case in CaseSerializer's form. Instantiating that
serializer and its three nested ones rebuilt some 70 fields per request: a tenth of the Python
time of an API create. `case_data` gives the same dictionary from the case's attributes. It is
restated on purpose, like `deadlines_data`: tests/complaints/test_case_answer.py holds the two
equal (new, absorbed, unassigned, resolved, escalated and overdue cases; masked and unmasked
customers), so a field added to CaseSerializer and not here fails there."""

from .choices import State, label
from .serializers import _DATETIME, can_see_personal_data, deadlines_data, response_now


def _when(value):
    return None if value is None else _DATETIME.to_representation(value)


def case_data(case, context):
    """What CaseSerializer(case, context=context).data gives."""
    now = response_now(context)
    department, assignee, customer = case.department, case.assignee, case.customer
    show_personal = can_see_personal_data(context)
    return {
        "number": case.number,
        "state": case.state,
        "state_display": label(State, case.state),
        "version": case.version,
        "channel": case.channel,
        "type": case.type,
        "category": case.category,
        "urgency": case.urgency,
        "urgency_reason": case.urgency_reason,
        "priority": case.priority,
        "department": None
        if department is None
        else {"id": department.pk, "code": department.code, "name": department.name},
        "assignee": None
        if assignee is None
        else {"id": assignee.pk, "username": assignee.username, "name": str(assignee)},
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "member_no": customer.member_no,
            "phone": customer.phone if show_personal else customer.phone_masked,
            "email": customer.email if show_personal else customer.email_masked,
            "preferred_contact": customer.preferred_contact,
            "language": customer.language,
            "kind": customer.kind,
            "tier": customer.tier,
        },
        "subject": case.subject,
        "product": case.product,
        "order_no": case.order_no,
        "expected_resolution_at": _when(case.expected_resolution_at),
        "next_contact_at": _when(case.next_contact_at),
        "resolved_at": _when(case.resolved_at),
        "closed_at": _when(case.closed_at),
        "created_at": _when(case.created_at),
        "updated_at": _when(case.updated_at),
        "absorbed": bool(context.get("absorbed", False)),
        "current_stage": case.current_stage,
        "current_due": _when(case.current_due),
        "overdue": case.is_overdue(now),
        "escalation_level": case.escalation_level,
        "deadlines_provisional": case.deadlines_provisional,
        "deadlines": deadlines_data(case.deadline_summary(now)),
    }
