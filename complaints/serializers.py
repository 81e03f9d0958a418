"""Serializers of the cases REST API: what goes in (parsed and checked field by field against
the models' own rules) and what comes out (customer phone and e-mail masked for staff without
`complaints.view_personal_data`). Nothing here changes a case; api.py hands the checked input
to complaints.services.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from servicedesk.serializer_fields import CachedFieldsMixin
from servicedesk.staff.models import Department, User

from . import services
from .models import (
    TEXT_MAX_LENGTH,
    Case,
    CaseContact,
    CaseEvent,
    CaseType,
    Customer,
    EventKind,
    ReturnRequest,
    SlaBreach,
    SlaStage,
    State,
    TechnicalRequest,
)


def django_error_detail(exc):
    """A Django ValidationError as DRF error detail: {field: [messages]}, with the model's
    "__all__" under DRF's non-field key."""
    detail = serializers.as_serializer_error(exc)
    if "__all__" in detail:
        detail[serializers.api_settings.NON_FIELD_ERRORS_KEY] = detail.pop("__all__")
    return detail


def can_see_personal_data(context):
    """Whether the requesting user sees customers' full phone numbers and e-mails; asked once
    per response and remembered in the (shared) serializer context."""
    if "show_personal_data" not in context:
        request = context.get("request")
        user = getattr(request, "user", None)
        context["show_personal_data"] = bool(
            user is not None and user.has_perm("complaints.view_personal_data")
        )
    return context["show_personal_data"]


def response_now(context):
    """One `now` per response, so every case in a list is judged against the same moment."""
    return context.setdefault("now", timezone.now())


# --- references --------------------------------------------------------------------------


class DepartmentRefSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name"]


class UserRefSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name"]


# --- output ------------------------------------------------------------------------------


class CustomerSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    """The customer on a case. Phone and e-mail are masked (138****8000, zh***@example.com)
    unless the user may see personal data."""

    # Text, not format "email": empty when the customer gave none, masked for most users.
    email = serializers.CharField(read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "name", "member_no", "phone", "email", "preferred_contact", "language",
                  "kind", "tier"]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not can_see_personal_data(self.context):
            data["phone"] = instance.phone_masked
            data["email"] = instance.email_masked
        return data


class DeadlineSerializer(serializers.Serializer):
    due = serializers.DateTimeField(allow_null=True, help_text=_("When the stage is due."))
    done_at = serializers.DateTimeField(allow_null=True, help_text=_("When it was done."))
    met = serializers.BooleanField(
        allow_null=True,
        help_text=_(
            "true: done by the deadline; false: done late, or overdue now; null: still to "
            "come, or never due."
        ),
    )
    overdue = serializers.BooleanField(help_text=_("Still to do and past its deadline."))


class DeadlinesSerializer(serializers.Serializer):
    """The case's deadlines (时限) by stage."""

    first_response = DeadlineSerializer(help_text=SlaStage.FIRST_RESPONSE.label)
    investigation = DeadlineSerializer(help_text=SlaStage.INVESTIGATION.label)
    solution_to_customer = DeadlineSerializer(help_text=SlaStage.SOLUTION.label)
    next_contact = DeadlineSerializer(help_text=SlaStage.NEXT_CONTACT.label)
    daily_update = DeadlineSerializer(required=False, help_text=SlaStage.DAILY_UPDATE.label)
    satisfaction_followup = DeadlineSerializer(help_text=SlaStage.SATISFACTION.label)


class CaseSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    """A case as it appears in lists and as the answer to intake."""

    state_display = serializers.CharField(source="get_state_display", read_only=True)
    customer = CustomerSerializer(read_only=True)
    department = DepartmentRefSerializer(read_only=True, allow_null=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    absorbed = serializers.SerializerMethodField(
        help_text=_(
            "True when this request was added to an existing open case of the same customer "
            "(omnichannel de-duplication) instead of opening a new one."
        )
    )
    current_stage = serializers.CharField(
        read_only=True,
        help_text=_(
            "The stage whose deadline is the earliest not yet met (a key of `deadlines`); "
            "empty when none."
        ),
    )
    current_due = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("The earliest deadline not yet met.")
    )
    overdue = serializers.SerializerMethodField(
        help_text=_("Open and its current deadline has passed (the overdue=true filter).")
    )
    escalation_level = serializers.IntegerField(
        read_only=True,
        help_text=_("0: none; 1: the supervisors were alerted; 2: the managers were."),
    )
    deadlines = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "number", "state", "state_display", "version", "channel", "type", "category",
            "urgency", "urgency_reason", "priority", "department", "assignee", "customer",
            "subject", "product", "order_no", "expected_resolution_at", "next_contact_at",
            "resolved_at", "closed_at", "created_at", "updated_at", "absorbed",
            "current_stage", "current_due", "overdue", "escalation_level",
            "deadlines_provisional", "deadlines",
        ]  # fmt: skip
        read_only_fields = fields

    def get_absorbed(self, obj) -> bool:
        return bool(self.context.get("absorbed", False))

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue(response_now(self.context))

    @extend_schema_field(DeadlinesSerializer)
    def get_deadlines(self, obj):
        return deadlines_data(obj.deadline_summary(response_now(self.context)))


_DATETIME = serializers.DateTimeField()
_DEADLINE_STAGES = list(DeadlinesSerializer._declared_fields)


def deadlines_data(summary):
    """What DeadlinesSerializer(summary).data gives (the schema says so), built directly: a
    list page of 50 cases built 50 serializers of six nested ones each, the largest part of
    its Python time. A stage missing from `summary` (daily_update, when the case has none)
    is left out, as that serializer leaves out a field that is not required."""
    data = {}
    for stage in _DEADLINE_STAGES:
        deadline = summary.get(stage)
        if deadline is None:
            continue
        due, done_at = deadline["due"], deadline["done_at"]
        data[stage] = {
            "due": None if due is None else _DATETIME.to_representation(due),
            "done_at": None if done_at is None else _DATETIME.to_representation(done_at),
            "met": deadline["met"],
            "overdue": deadline["overdue"],
        }
    return data


class CaseEventSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True, allow_null=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    # Empty for events that are not state changes: the schema says so (enum or "").
    from_state = serializers.ChoiceField(choices=State.choices, allow_blank=True, read_only=True)
    to_state = serializers.ChoiceField(choices=State.choices, allow_blank=True, read_only=True)

    class Meta:
        model = CaseEvent
        fields = [
            "id", "kind", "kind_display", "transition", "from_state", "to_state", "message",
            "customer_notified", "data", "author", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class CaseContactSerializer(serializers.ModelSerializer):
    created_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CaseContact
        fields = ["id", "channel", "received_at", "subject", "raw_text", "similarity", "created_by"]
        read_only_fields = fields


class ReturnRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReturnRequest
        fields = [
            "order_no", "product", "purchase_date", "reason", "unopened", "evidence_notes",
            "outside_window", "window_note", "customer_pays_shipping", "step", "tracking_no",
            "inspection_result", "resolution", "refund_method", "refund_amount",
        ]  # fmt: skip
        read_only_fields = fields


class ReturnStepSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    inputs = serializers.ListField(child=serializers.CharField())
    required = serializers.ListField(child=serializers.CharField())


class ReturnStateSerializer(serializers.Serializer):
    """A case's return / exchange request, the steps the caller may take now, and the case
    version to send back with a step."""

    return_request = ReturnRequestSerializer()
    steps = ReturnStepSerializer(many=True)
    version = serializers.IntegerField()


class ReturnStepInputSerializer(serializers.Serializer):
    """What one return step takes; each step needs only some of these (see `steps`)."""

    expected_version = serializers.IntegerField(required=False)
    review_comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    tracking_no = serializers.CharField(required=False, allow_blank=True, max_length=64)
    inspection_result = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    refund_method = serializers.CharField(required=False, allow_blank=True, max_length=20)
    refund_amount = serializers.DecimalField(
        required=False, allow_null=True, max_digits=10, decimal_places=2, min_value=0
    )


class SlaBreachSerializer(serializers.ModelSerializer):
    """One escalation: a deadline that passed unmet, the level it reached and who was told."""

    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    department = DepartmentRefSerializer(read_only=True, allow_null=True)
    notified = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=_("Usernames alerted.")
    )

    class Meta:
        model = SlaBreach
        fields = [
            "stage", "stage_display", "level", "due_at", "escalated_at", "department",
            "notified", "technical_request",
        ]  # fmt: skip
        read_only_fields = fields


class TechnicalRequestSerializer(serializers.ModelSerializer):
    """A request for help from another department, with its own deadline (2 h by default)."""

    case = serializers.SlugRelatedField(slug_field="number", read_only=True)
    department = DepartmentRefSerializer(read_only=True)
    requested_by = UserRefSerializer(read_only=True, allow_null=True)
    answered_by = UserRefSerializer(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField(help_text=_("Not answered and past its deadline."))

    class Meta:
        model = TechnicalRequest
        fields = [
            "id", "case", "department", "question", "requested_by", "requested_at", "due_at",
            "overdue", "answer", "answered_by", "answered_at", "escalation_level",
        ]  # fmt: skip
        read_only_fields = fields

    def get_overdue(self, obj) -> bool:
        return obj.answered_at is None and obj.due_at < response_now(self.context)


class TransitionOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    inputs = serializers.ListField(child=serializers.CharField())


class CaseDetailSerializer(CaseSerializer):
    """One case with its timeline, its contacts and the steps the user may take now."""

    merged_into = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    created_by = UserRefSerializer(read_only=True, allow_null=True)
    collaborating_departments = DepartmentRefSerializer(many=True, read_only=True)
    return_request = serializers.SerializerMethodField()
    contacts = CaseContactSerializer(many=True, read_only=True)
    events = CaseEventSerializer(
        many=True, read_only=True, help_text=_("The timeline, oldest first.")
    )
    transitions = serializers.SerializerMethodField(
        help_text=_("Steps the requesting user may take on the case in its current state.")
    )
    breaches = SlaBreachSerializer(
        many=True, read_only=True, help_text=_("Escalation history, newest first.")
    )
    technical_requests = TechnicalRequestSerializer(
        many=True, read_only=True, help_text=_("Help asked of other departments, newest first.")
    )

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "description", "customer_words", "expected_outcome", "prior_history", "cause",
            "solution", "result", "feedback_score", "feedback_text", "remarks", "reopen_count",
            "customer_is_new", "merged_into", "collaborating_departments", "created_by",
            "return_request", "contacts", "events", "transitions", "breaches",
            "technical_requests",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ReturnRequestSerializer(allow_null=True))
    def get_return_request(self, obj):
        try:
            rr = obj.return_request
        except ObjectDoesNotExist:
            return None
        return ReturnRequestSerializer(rr, context=self.context).data

    @extend_schema_field(TransitionOptionSerializer(many=True))
    def get_transitions(self, obj):
        request = self.context.get("request")
        if request is None:
            return []
        return [
            {"name": name, "label": str(label), "inputs": list(inputs)}
            for name, label, inputs in services.available_transitions(obj, request.user)
        ]


class SuggestedArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField()
    category = serializers.CharField()
    relevance = serializers.FloatField(
        help_text=_("How much of what the case is about the article covers, 0 to 1.")
    )


class SimilarCaseSerializer(serializers.Serializer):
    number = serializers.CharField()
    subject = serializers.CharField()
    state = serializers.CharField()
    result = serializers.CharField()
    cause = serializers.CharField()
    department = serializers.CharField(source="department.name", default=None)
    resolved_at = serializers.DateTimeField()
    relevance = serializers.FloatField(
        help_text=_("How much of what the case is about the other case shares, 0 to 1.")
    )


class SuggestionsSerializer(serializers.Serializer):
    articles = SuggestedArticleSerializer(many=True)
    cases = SimilarCaseSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    """For the schema: how a refused request answers."""

    detail = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    """For the schema: a 409 answer. `state` and `version` are the case's current ones."""

    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["not_allowed", "case_changed"])
    state = serializers.CharField()
    version = serializers.IntegerField()


# --- input -------------------------------------------------------------------------------


class CustomerInputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    """Who the customer is. At least one of phone, e-mail or member number is needed; they
    are how the same customer is recognised across channels."""

    class Meta:
        model = Customer
        fields = ["name", "phone", "email", "member_no", "preferred_contact", "language", "kind",
                  "company", "industry"]  # fmt: skip

    def validate(self, attrs):
        try:
            Customer(**attrs).clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_error_detail(exc)) from exc
        return attrs


class ReturnRequestInputSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = ReturnRequest
        fields = ["purchase_date", "reason", "unopened", "evidence_notes"]


class CaseIntakeSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    """What a channel system sends to register a customer's request."""

    customer = CustomerInputSerializer()
    return_request = ReturnRequestInputSerializer(
        required=False,
        help_text=_("Return / exchange data; required when type is return_exchange."),
    )

    class Meta:
        model = Case
        fields = [
            "channel", "customer", "subject", "description", "customer_words",
            "expected_outcome", "prior_history", "type", "category", "product", "order_no",
            "urgency", "priority", "remarks", "return_request",
        ]  # fmt: skip
        extra_kwargs = {
            "urgency": {"required": False},
            "priority": {"required": False},
        }

    def validate(self, attrs):
        # Presence only, named by field; the intake service checks the values against the
        # ReturnRequest model (dates, window) and answers with field errors too.
        if attrs.get("type") == CaseType.RETURN_EXCHANGE or "return_request" in attrs:
            errors = {}
            if attrs.get("return_request") is None:
                errors["return_request"] = [
                    _("Give the purchase date and the reason for a return or exchange.")
                ]
            for field in ("order_no", "product"):
                if not (attrs.get(field) or "").strip():
                    errors[field] = [_("Needed for a return or exchange.")]
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


def _lookup(queryset, *, key, value, message):
    """The row whose `key` is `value`, else (for a number) whose id is `value`."""
    value = value.strip()
    if not value:
        return None
    q = Q(**{key: value})
    if value.isdigit():
        q |= Q(pk=int(value))
    found = sorted(queryset.filter(q), key=lambda row: getattr(row, key) != value)
    if not found:
        raise serializers.ValidationError(message)
    return found[0]


class TransitionInputSerializer(serializers.Serializer):
    """Input of a step. Each step reads only its own fields: assign (department, assignee),
    propose_solution (solution), resolve (result, cause), reopen and cancel (reason),
    merge (into). `note`, `customer_notified` and `expected_version` go with every step."""

    department = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("assign: the department's code, or its numeric id."),
    )
    assignee = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("assign: the staff member's username, or their numeric id."),
    )
    solution = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True)
    result = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True)
    cause = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True)
    into = serializers.CharField(
        required=False, allow_blank=True, help_text=_("merge: the number of the surviving case.")
    )
    note = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    customer_notified = serializers.BooleanField(required=False, default=False)
    expected_version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("The case version the client last saw; a different one answers 409."),
    )

    INPUT_FIELDS = ["department", "assignee", "solution", "result", "cause", "reason", "into"]

    def validate_department(self, value):
        return _lookup(
            Department.objects.filter(is_active=True),
            key="code",
            value=value,
            message=_("Unknown department."),
        )

    def validate_assignee(self, value):
        return _lookup(
            User.objects.all(), key="username", value=value, message=_("Unknown staff member.")
        )

    def service_inputs(self):
        """The step's own input, as keyword arguments for services.case_transition."""
        data = self.validated_data
        return {f: data[f] for f in self.INPUT_FIELDS if data.get(f) not in (None, "")}


class TechnicalRequestInputSerializer(serializers.Serializer):
    """Ask another department (e.g. 技术部) for help on the case."""

    department = serializers.CharField(
        help_text=_("The asked department's code, or its numeric id.")
    )
    question = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, help_text=_("What the case needs from that department.")
    )

    def validate_department(self, value):
        return _lookup(
            Department.objects.filter(is_active=True),
            key="code",
            value=value,
            message=_("Unknown department."),
        )


class TechnicalAnswerInputSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=TEXT_MAX_LENGTH)


class EventInputSerializer(serializers.Serializer):
    """A progress update (told or not to the customer) or an internal note."""

    message = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    kind = serializers.ChoiceField(
        choices=[(EventKind.PROGRESS.value, EventKind.PROGRESS.label),
                 (EventKind.NOTE.value, EventKind.NOTE.label)],
        default=EventKind.PROGRESS.value,
    )  # fmt: skip
    customer_notified = serializers.BooleanField(required=False, default=False)
    next_contact_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=_("The next contact promised to the customer (沟通节点)."),
    )
    expected_resolution_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=_("The expected resolution time told to the customer."),
    )
    expected_version = serializers.IntegerField(required=False, min_value=1)
