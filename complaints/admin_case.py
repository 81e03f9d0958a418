"""The case page (the case admin's change view): deadlines and escalations, technical requests,
customer, other cases, contacts, timeline, attachments, one button per transition.
"""

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from knowledge.models import Article, ArticleCategory, PlanRevision

from . import privacy, search, services
from .admin_common import (
    DUE_COLOURS,
    OTHER_CASES_SHOWN,
    STATE_COLOURS,
    URGENCY_COLOURS,
    _prime_user,
    due_state,
    escalation_badge,
    format_span,
    shows_personal_data,
    time_left_text,
)
from .admin_forms import AttachmentForm, ProgressForm, TechnicalRequestForm
from .models import (
    FINAL_STATES,
    STAGE_LABELS,
    Case,
    ReturnRequest,
    SlaBreach,
    State,
    TechnicalRequest,
    display_phone,
)

# Panels higher apps add to the case page (the channels app's reply box): functions
# (request, case) -> HTML, registered in their admin module; complaints never imports them.
CASE_PAGE_PANELS = []


class CasePageMixin:
    """The case page: the change view of CaseAdmin."""

    def get_object(self, request, object_id, from_field=None):
        if from_field is not None:
            return super().get_object(request, object_id, from_field)
        # The list's joins only (customer, department, person, escalation). Each further
        # join cost the case's query ~1 ms of planning and compiling (10 → 1.5 ms with five
        # fewer at 1M cases), more than reading the row by its key: the people and the plan
        # below, the return request when the page asks; the case it was merged into when
        # there is one.
        try:
            case = self.get_queryset(request).get(pk=int(object_id))
        except (Case.DoesNotExist, ValueError, TypeError):
            return None
        prefetch_related_objects(
            [case],
            "created_by",
            "satisfaction_waived_by",  # no query unless it was waived
            Prefetch("plan_revision", queryset=PlanRevision.objects.select_related("plan")),
        )
        return case

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # A case of another department exists but is not this user's business: say so (403)
        # rather than pretend it was deleted.
        try:
            exists = Case.objects.filter(pk=int(object_id)).exists()
        except (ValueError, TypeError):
            exists = False
        if exists:
            raise PermissionDenied
        return super()._get_obj_does_not_exist_redirect(request, opts, object_id)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        _prime_user(request)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.CaseChanged as exc:
            # Raised inside the admin's transaction: nothing was saved.
            self.message_user(request, str(exc), messages.ERROR)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(request.path)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj):
            return fieldsets
        # Read-only page: no version to send back.
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f != "expected_version"]})
            for name, opts in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        if not change:
            raise PermissionDenied  # cases are created by the intake service only
        changes = {
            f: form.cleaned_data[f] for f in form.changed_data if f in services.EDITABLE_FIELDS
        }
        if changes:
            services.case_update(
                case=obj,
                user=request.user,
                expected_version=form.cleaned_data["expected_version"],
                **changes,
            )

    def save_related(self, request, form, formsets, change):
        pass  # nothing related is edited on this form

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change:
            context.update(self._case_page_context(request, obj))
        context["show_save_and_add_another"] = False
        context["show_delete"] = False
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _case_page_context(self, request, case):
        user = request.user
        full = shows_personal_data(request)
        customer = case.customer
        if full and request.method == "GET":
            privacy.log_unmasked_view(user=user, customer=customer, case=case, where=_("case page"))
        others = Case.objects.filter(customer_id=case.customer_id).exclude(pk=case.pk)
        visible_others = others.visible_to(user)
        other_cases = list(
            visible_others.select_related("department").order_by("-created_at")[:OTHER_CASES_SHOWN]
        )
        # Both counts in one query: what this user may open, and what exists beyond it.
        counts = others.aggregate(
            total=Count("pk"), visible=Count("pk", filter=Q(pk__in=visible_others.values("pk")))
        )
        visible_count = counts["visible"]
        events = list(case.events.select_related("author"))
        promise = None
        for event in events:
            event.changes = _changes(event)
            promised = (event.data or {}).get("next_contact_at") if event.data else None
            if promised:
                promise = parse_datetime(promised)
            # A customer-notified entry shows the next contact promised (沟通节点) then.
            event.promised_contact = (
                promise
                if event.customer_notified and promise and promise >= event.created_at
                else None
            )
        try:
            return_request = case.return_request
        except ReturnRequest.DoesNotExist:
            return_request = None
        buttons, needs = _transition_buttons(case, user)
        can_waive = (
            case.state == State.RESOLVED
            and not case.satisfaction_done
            and user.has_perm("complaints.waive_satisfaction")
        )
        now = timezone.now()
        prefetch_related_objects(
            [case],
            Prefetch(
                "breaches",
                queryset=SlaBreach.objects.select_related("department").order_by(
                    "-escalated_at", "-level", "-pk"
                ),
            ),
            Prefetch(
                "technical_requests",
                queryset=TechnicalRequest.objects.select_related(
                    "department", "requested_by", "answered_by"
                ),
            ),
        )
        can_ask = (
            user.has_perm("complaints.add_technicalrequest") and case.state not in FINAL_STATES
        )
        plan_revision_url = (
            reverse("admin:knowledge_planrevision_change", args=[case.plan_revision_id])
            if case.plan_revision_id and user.has_perm("knowledge.view_planrevision")
            else ""
        )
        return {
            "case": case,
            "customer_phone": display_phone(customer.phone, masked=not full),
            "customer_email": customer.email if full else customer.email_masked,
            "customer_url": reverse("admin:complaints_customer_change", args=[customer.pk]),
            "other_cases": other_cases,
            "other_more": visible_count - len(other_cases),
            "other_hidden": counts["total"] - visible_count,
            "contacts": list(case.contacts.select_related("created_by")),
            "events": events,
            "attachments": list(case.attachments.select_related("uploaded_by")),
            "return_request": return_request,
            "return_buttons": [
                {
                    "label": label,
                    "url": reverse("admin:complaints_case_return_step", args=[case.pk, name]),
                }
                for name, label, _inputs in services.available_return_steps(return_request, user)
            ]
            if return_request
            else [],
            "transition_buttons": buttons,
            "transition_needs": needs,
            "can_waive": can_waive,
            "waive_url": reverse("admin:complaints_case_waive", args=[case.pk]),
            "can_progress": user.has_perm("complaints.add_caseevent")
            and case.state
            not in (
                State.MERGED,
                State.CANCELLED,
            ),
            "progress_form": ProgressForm(initial={"expected_version": case.version}),
            "canned": canned_replies(request) if user.has_perm("complaints.add_caseevent") else [],
            "progress_url": reverse("admin:complaints_case_progress", args=[case.pk]),
            "extra_panels": [panel(request, case) for panel in CASE_PAGE_PANELS],
            "can_attach": user.has_perm("complaints.add_attachment"),
            "attachment_form": AttachmentForm(),
            "attach_url": reverse("admin:complaints_case_attach", args=[case.pk]),
            "suggested_articles": search.suggested_articles(case),
            "similar_cases": search.similar_resolved_cases(case, user=user),
            "can_write_article": case.state in (State.RESOLVED, State.CLOSED)
            and user.has_perm("knowledge.add_article"),
            "article_url": reverse("admin:complaints_case_article", args=[case.pk]),
            "state_colour": STATE_COLOURS.get(case.state),
            "urgency_colour": URGENCY_COLOURS.get(case.urgency),
            "now": now,
            "deadline_rows": _deadline_rows(case, now, case.breaches.all()),
            "current_deadline": _current_deadline(case, now),
            "escalation_badge": escalation_badge(case.escalation_level),
            "plan_revision_url": plan_revision_url,
            "breaches": [
                {"breach": b, "stage": STAGE_LABELS.get(b.stage, b.stage)}
                for b in case.breaches.all()
            ],
            "tech_requests": _tech_request_rows(case.technical_requests.all(), user, now),
            "can_ask": can_ask,
            "tech_form": TechnicalRequestForm(
                auto_id="id_tech_%s", exclude_department=case.department_id
            )
            if can_ask
            else None,
            "tech_url": reverse("admin:complaints_case_technical_request", args=[case.pk]),
        }

    # --- case actions (their own small pages) --------------------------------------------


CANNED_SHOWN = 100
# The text boxes a standard reply (标准话术) can be inserted into, by the id of their field.
CANNED_TARGETS = ["id_message", "id_solution", "id_result", "id_note"]


def canned_replies(request=None):
    """The published standard replies (标准话术), by title: one query, once per request (the
    progress update and the channels' reply box offer the same list)."""
    cached = getattr(request, "_sd_canned_replies", None)
    if cached is not None:
        return cached
    replies = list(
        Article.objects.published()
        .filter(category=ArticleCategory.STANDARD_REPLY)
        .order_by("title")
        .values("pk", "title", "body")[:CANNED_SHOWN]
    )
    if request is not None:
        request._sd_canned_replies = replies
    return replies


# The way forward, in order: the first of these the user may take now is the primary button.
FORWARD = ["assign", "start_investigation", "propose_solution", "resolve", "close"]


def _needs_text(name, label):
    """What a step without input of its own waits for, said instead of a button that fails."""
    if name == "close":
        return _(
            "Closing needs the customer's satisfaction feedback: record the follow-up, "
            "or have a supervisor waive it."
        )
    if name == "start_investigation":
        return _("The investigation starts once a department and a person are assigned.")
    return _("“%(step)s” is not possible yet.") % {"step": label}


def _transition_buttons(case, user):
    """(buttons, needs): a button for each transition this user may take now and that can
    succeed now. A step that asks for input gets its form (the input makes it possible); a
    step without input whose condition is unmet (结案 before the satisfaction feedback) is no
    button but a sentence saying what it needs. One button is primary: the next step
    forward."""
    buttons, needs = [], []
    for name, label, inputs in services.available_transitions(case, user):
        meta = getattr(case, name)._django_fsm
        if not inputs and not meta.conditions_met(case, case.state):
            needs.append({"name": name, "label": label, "text": _needs_text(name, label)})
            continue
        target = meta.get_transition(case.state).target
        buttons.append(
            {
                "name": name,
                "label": label,
                "needs_input": bool(inputs),
                "forward": name in FORWARD
                and target != case.state
                and not (name == "assign" and case.assignee_id),
                "primary": False,
                "url": reverse("admin:complaints_case_transition", args=[case.pk, name]),
            }
        )
    forward = [b for b in buttons if b["forward"]]
    if forward:
        min(forward, key=lambda b: FORWARD.index(b["name"]))["primary"] = True
    return buttons, needs


def _deadline_rows(case, now, breaches=()):
    """The case page's deadline table: one row per stage with its state and colour. It agrees
    with the escalation history: a stage escalated before it was done reads as done late
    ("逾期 5 天 14 小时后完成"), counted from the deadline it was escalated on, even when a later
    deadline (a new promised contact, a recomputed plan) was then met."""
    escalated = {}
    for b in breaches:
        if b.technical_request_id is None:
            escalated.setdefault(b.stage, []).append(b)
    rows = []
    for stage, info in case.deadline_summary(now).items():
        due, done = info["due"], info["done_at"]
        stage_breaches = escalated.get(stage, [])
        level = max((b.level for b in stage_breaches), default=0)
        if done is not None:
            missed = [
                b.due_at for b in stage_breaches if b.due_at < done and b.escalated_at <= done
            ]
            late_by = (
                done - max(missed) if missed else (done - due if info["met"] is False else None)
            )
            state = "late" if late_by is not None else "met"
            text = (
                _("finished %(time)s late") % {"time": format_span(late_by)}
                if late_by is not None
                else _("met")
            )
        elif info["pending"]:
            state = due_state(due, now)
            text = time_left_text(due, now)
        else:
            state, text = "none", ""
        rows.append(
            {
                "stage": stage,
                "label": STAGE_LABELS[stage],
                "due": due,
                "done_at": done,
                "state": state,
                "text": text,
                "escalation_badge": escalation_badge(level) if level else "",
                "colour": {"met": DUE_COLOURS["done"], "late": DUE_COLOURS["overdue"]}.get(
                    state, DUE_COLOURS.get(state, "#6b7280")
                ),
            }
        )
    return rows


def _current_deadline(case, now):
    """The head of the case page: the current stage and its time left, like the list."""
    if case.current_due is None or not case.current_stage:
        return None
    state = due_state(case.current_due, now)
    return {
        "label": STAGE_LABELS.get(case.current_stage, case.current_stage),
        "text": time_left_text(case.current_due, now),
        "state": state,
        "colour": DUE_COLOURS[state],
    }


def _tech_request_rows(requests, user, now):
    """Technical requests with their deadline state; `can_answer` for members of the asked
    department (the service checks it again)."""
    rows, my_departments = [], None
    may_answer = user.has_perm("complaints.change_technicalrequest")
    for tr in requests:
        if tr.answered_at is not None:
            late = tr.answered_at > tr.due_at
            state = "late" if late else "met"
            text = (
                _("answered %(time)s late") % {"time": format_span(tr.answered_at - tr.due_at)}
                if late
                else _("answered in time")
            )
            colour = DUE_COLOURS["overdue" if late else "done"]
            can_answer = False
        else:
            state = due_state(tr.due_at, now)
            text, colour = time_left_text(tr.due_at, now), DUE_COLOURS[state]
            if may_answer and my_departments is None and not user.sees_all_departments:
                my_departments = set(user.memberships.values_list("department_id", flat=True))
            can_answer = may_answer and (
                user.sees_all_departments or tr.department_id in my_departments
            )
        rows.append(
            {
                "tr": tr,
                "state": state,
                "text": text,
                "colour": colour,
                "can_answer": can_answer,
                "answer_url": reverse("admin:complaints_technicalrequest_answer", args=[tr.pk]),
            }
        )
    return rows


def _changes(event):
    """[(field label, old, new)] for a "details changed" event."""
    if event.kind != "change" or not isinstance(event.data, dict):
        return []
    rows = []
    for field, values in event.data.items():
        try:
            label = Case._meta.get_field(field).verbose_name
        except FieldDoesNotExist:  # a field renamed since still shows by its name
            label = field
        if isinstance(values, list) and len(values) == 2:
            rows.append((label, values[0], values[1]))
    return rows
