"""Forms of the staff workspace (admin): they parse input for the case services and put the
services' field errors back on the fields. They never save anything themselves."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from servicedesk.staff.models import Department, User

from .models import (
    Case,
    CaseType,
    Category,
    Channel,
    ContactMethod,
    Customer,
    CustomerKind,
    EventKind,
    RefundMethod,
    ReturnReason,
    ReturnRequest,
    TechnicalRequest,
    Urgency,
    validate_attachment,
)

BLANK = [("", "---------")]
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _label(model, field):
    return model._meta.get_field(field).verbose_name


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several evidence files in one input; each is checked like an Attachment's file."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("validators", [validate_attachment])
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class DateTimeLocalField(forms.DateTimeField):
    """The browser's own date-time picker; the value is in the user's time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", [DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])
        super().__init__(*args, **kwargs)


class StaffSelect(forms.Select):
    """Each option carries its person's department ids, so the page can offer only the
    members of the chosen department (supervisors and managers fit every department)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        user = getattr(value, "instance", None)
        if user is not None:
            depts = (
                "*"
                if user.sees_all_departments
                else " ".join(str(d.pk) for d in user.departments.all())
            )
            option["attrs"]["data-departments"] = depts
        return option


class StaffChoiceField(forms.ModelChoiceField):
    """Active staff, each labelled with their departments so the right person is easy to find."""

    widget = StaffSelect

    def __init__(self, **kwargs):
        queryset = (
            User.objects.filter(is_active=True, is_staff=True)
            .prefetch_related("departments", "groups")
            .order_by("last_name", "first_name", "username")
        )
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj):
        depts = "、".join(d.name for d in obj.departments.all())
        # The person's name and departments; the login name is no one's business here.
        return f"{obj}{' — ' + depts if depts else ''}"


def department_field(**kwargs):
    return forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True), label=_("department"), **kwargs
    )


class ServiceErrorsMixin:
    """Put a ValidationError raised by a service onto the form's fields.

    `SERVICE_FIELDS` renames the service's keys to this form's field names; keys the form
    does not have become errors of the whole form."""

    SERVICE_FIELDS = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.label = capfirst(field.label)  # like model forms: "Phone", not "phone"

    def add_service_errors(self, exc):
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, messages in exc.message_dict.items():
            field = self.SERVICE_FIELDS.get(key, key)
            if field == NON_FIELD_ERRORS or field not in self.fields:
                self.add_error(None, messages)
            else:
                self.add_error(field, messages)


# --- intake ------------------------------------------------------------------------------

CUSTOMER_KEYS = ["name", "phone", "member_no", "email", "preferred_contact", "kind", "company"]
RETURN_KEYS = ["purchase_date", "reason", "unopened", "evidence_notes"]
CASE_KEYS = [
    "channel", "type", "category", "subject", "description", "customer_words", "expected_outcome",
    "product", "order_no", "priority", "prior_history", "remarks", "department", "assignee",
    "attachments",
]  # fmt: skip


class IntakeForm(ServiceErrorsMixin, forms.Form):
    """Register a case from the phone, the store counter or a chat, as fast as it is told."""

    customer_phone = forms.CharField(label=_label(Customer, "phone"), max_length=32, required=False)
    customer_name = forms.CharField(
        label=_("customer name"),
        max_length=100,
        required=False,
        help_text=_(
            "Not needed for a known customer (recognised by phone, member number or e-mail)."
        ),
    )
    customer_member_no = forms.CharField(
        label=_label(Customer, "member_no"), max_length=40, required=False
    )
    customer_email = forms.EmailField(label=_label(Customer, "email"), required=False)
    customer_preferred_contact = forms.ChoiceField(
        label=_label(Customer, "preferred_contact"),
        choices=ContactMethod.choices,
        initial=ContactMethod.PHONE,
    )
    customer_kind = forms.ChoiceField(
        label=_label(Customer, "kind"),
        choices=CustomerKind.choices,
        initial=CustomerKind.INDIVIDUAL,
    )
    customer_company = forms.CharField(
        label=_label(Customer, "company"), max_length=200, required=False
    )

    channel = forms.ChoiceField(
        label=_label(Case, "channel"), choices=Channel.choices, initial=Channel.PHONE
    )
    # Required for a new customer; a known customer's repeat call needs only the subject
    # (clean() fills these from what we know).
    type = forms.ChoiceField(
        label=_label(Case, "type"), choices=BLANK + CaseType.choices, required=False
    )
    category = forms.ChoiceField(
        label=_label(Case, "category"), choices=BLANK + Category.choices, required=False
    )
    subject = forms.CharField(
        label=_label(Case, "subject"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "vTextField sd-wide", "autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_label(Case, "description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
        help_text=_("Objective, in our words."),
    )
    customer_words = forms.CharField(
        label=_label(Case, "customer_words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
    )
    expected_outcome = forms.CharField(
        label=_label(Case, "expected_outcome"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
    )
    product = forms.CharField(label=_label(Case, "product"), max_length=200, required=False)
    order_no = forms.CharField(label=_label(Case, "order_no"), max_length=64, required=False)

    return_purchase_date = forms.DateField(
        label=_label(ReturnRequest, "purchase_date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    return_reason = forms.ChoiceField(
        label=_("return reason"), choices=BLANK + ReturnReason.choices, required=False
    )
    return_unopened = forms.BooleanField(label=_label(ReturnRequest, "unopened"), required=False)
    return_evidence_notes = forms.CharField(
        label=_label(ReturnRequest, "evidence_notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
    )

    urgency = forms.ChoiceField(
        label=_label(Case, "urgency"),
        choices=[("", _("Automatic (keyword rules)")), *Urgency.choices],
        required=False,
    )
    priority = forms.TypedChoiceField(
        label=_label(Case, "priority"),
        choices=[("", _("Automatic")), *[(i, str(i)) for i in range(5, 0, -1)]],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("5 highest"),
    )
    department = department_field(required=False, empty_label=_("Automatic (routing rules)"))
    assignee = StaffChoiceField(
        label=_label(Case, "assignee"),
        required=False,
        empty_label=_("Automatic (least-loaded handler)"),
    )
    prior_history = forms.CharField(
        label=_label(Case, "prior_history"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
    )
    remarks = forms.CharField(
        label=_label(Case, "remarks"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
    )
    attachments = MultipleFileField(
        label=_("evidence files"),
        required=False,
        help_text=_("Screenshots, photos, video, logs; several files at once."),
    )

    SERVICE_FIELDS = {
        **{k: f"customer_{k}" for k in CUSTOMER_KEYS},
        **{f"return_request.{k}": f"return_{k}" for k in RETURN_KEYS},
        "return_request.order_no": "order_no",
        "return_request.product": "product",
        "file": "attachments",
    }

    FIELDSETS = [
        (
            _("Customer"),
            {
                "fields": [
                    ("customer_phone", "customer_name"),
                    ("customer_member_no", "customer_email"),
                    ("customer_preferred_contact", "customer_kind", "customer_company"),
                ],
                "description": _(
                    "A known customer is recognised by phone, member number or e-mail; "
                    "a repeat contact about the same matter is added to their open case."
                ),
            },
        ),
        (
            _("What the customer needs"),
            {
                "fields": [
                    ("channel", "type", "category"),
                    "subject",
                    "description",
                    "customer_words",
                    "expected_outcome",
                    ("product", "order_no"),
                ]
            },
        ),
        (
            _("Return / exchange"),
            {
                "fields": [
                    ("return_purchase_date", "return_reason", "return_unopened"),
                    "return_evidence_notes",
                ],
                "classes": ["sd-return-fields"],
                "description": _("Only for returns and exchanges: order number and product above."),
            },
        ),
        (
            _("Handling"),
            {
                "fields": [
                    ("urgency", "priority"),
                    ("department", "assignee"),
                    "prior_history",
                    "remarks",
                    "attachments",
                ],
                "description": _(
                    "Leave on automatic unless you know better: keyword rules set urgency, "
                    "routing rules choose the department and the least-loaded handler."
                ),
            },
        ),
    ]

    # Needed from a new customer; a known one's are filled from what we know.
    NEW_CUSTOMER_FIELDS = ["customer_name", "type", "category", "description"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.known_customer = None

    def clean(self):
        data = super().clean()
        self.known_customer = self._known_customer(data)
        self._fill_for_known_customer(data)
        if data.get("type") == CaseType.RETURN_EXCHANGE:
            # Asked for all at once here; the service checks the values themselves.
            for field in ["order_no", "product", "return_purchase_date", "return_reason"]:
                if not data.get(field) and field not in self.errors:
                    self.add_error(field, _("Needed for a return or exchange."))
        return data

    def _known_customer(self, data):
        """The customer the contact details name, as this user may learn it (lookup rules:
        staff who see masked phones are recognised a customer by member number only)."""
        if self.user is None:
            return None
        from . import lookup

        return lookup.known_customer(
            phone=data.get("customer_phone") or "",
            member_no=data.get("customer_member_no") or "",
            email=data.get("customer_email") or "",
            user=self.user,
        )

    def _fill_for_known_customer(self, data):
        """A known customer's repeat call needs only the subject: their name is known, the
        type and category are those of their latest case, the description is the subject.
        For anybody else these fields are required."""
        known = self.known_customer
        if known is not None:
            if not data.get("subject"):
                return  # the subject's own error says what is missing
            data["customer_name"] = data.get("customer_name") or known.name
            if not (data.get("type") and data.get("category")):
                latest = known.cases.exclude(type=CaseType.RETURN_EXCHANGE).order_by("-created_at")
                latest = latest.values("type", "category").first() or {}
                data["type"] = data.get("type") or latest.get("type") or CaseType.OTHER
                data["category"] = data.get("category") or latest.get("category") or Category.OTHER
            data["description"] = data.get("description") or data["subject"]
            return
        for field in self.NEW_CUSTOMER_FIELDS:
            if not data.get(field) and field not in self.errors:
                self.add_error(field, forms.Field.default_error_messages["required"])

    def intake_kwargs(self):
        """Keyword arguments for services.case_intake (without `user`)."""
        d = self.cleaned_data
        kwargs = {k: d[k] for k in CASE_KEYS}
        kwargs["customer"] = {k: d[f"customer_{k}"] for k in CUSTOMER_KEYS}
        kwargs["urgency"] = d["urgency"] or None
        if d["type"] == CaseType.RETURN_EXCHANGE:
            kwargs["return_request"] = {k: d[f"return_{k}"] for k in RETURN_KEYS}
        return kwargs


# --- the case page -----------------------------------------------------------------------


class CaseChangeForm(forms.ModelForm):
    """The editable details of a case. `expected_version` is the version the page was loaded
    at, so a save over somebody else's change is refused instead of overwriting it."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Case
        fields = []  # set by the admin from its fieldsets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expected_version"].initial = self.instance.version


class TransitionForm(ServiceErrorsMixin, forms.Form):
    """The input one transition asks for, plus an optional note and "customer told"."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    department = department_field()
    assignee = StaffChoiceField(label=_label(Case, "assignee"))
    solution = forms.CharField(
        label=_label(Case, "solution"),
        widget=forms.Textarea(attrs={"rows": 5, "class": "vLargeTextField"}),
    )
    result = forms.CharField(
        label=_label(Case, "result"),
        widget=forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
    )
    cause = forms.CharField(
        label=_label(Case, "cause"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
    )
    reason = forms.CharField(
        label=_("reason"), widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"})
    )
    into = forms.CharField(
        label=_("merge into case number"),
        max_length=13,
        help_text=_("For example 202611-00042. The other case must be open."),
    )
    note = forms.CharField(
        label=_("note for the timeline"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"}),
    )
    customer_notified = forms.BooleanField(label=_("the customer was told"), required=False)

    INPUTS = ["department", "assignee", "solution", "result", "cause", "reason", "into"]
    OPTIONAL_INPUTS = {"cause"}

    def __init__(self, *args, inputs, with_note=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.inputs = list(inputs)
        for name in self.INPUTS:
            if name not in self.inputs:
                del self.fields[name]
        if not with_note:
            del self.fields["note"]
            del self.fields["customer_notified"]

    def service_kwargs(self):
        d = self.cleaned_data
        kwargs = {name: d[name] for name in self.inputs if name in d}
        if "note" in self.fields:
            kwargs["note"] = d["note"]
            kwargs["customer_notified"] = d["customer_notified"]
        return kwargs


class WaiveSatisfactionForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("reason"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
        help_text=_("Why the case may close without the satisfaction follow-up."),
    )


class ProgressForm(ServiceErrorsMixin, forms.Form):
    """A progress update (进度更新) or internal note on the timeline."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("kind"),
        choices=[
            (EventKind.PROGRESS, EventKind.PROGRESS.label),
            (EventKind.NOTE, EventKind.NOTE.label),
        ],
        initial=EventKind.PROGRESS,
    )
    message = forms.CharField(
        label=_("what happened"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
        help_text=_("For example: cause found, fix in development, waiting for test."),
    )
    customer_notified = forms.BooleanField(label=_("the customer was told"), required=False)
    next_contact_at = DateTimeLocalField(
        label=_label(Case, "next_contact_at"),
        required=False,
        help_text=_("When we promised to contact the customer next (沟通节点)."),
    )
    expected_resolution_at = DateTimeLocalField(
        label=_label(Case, "expected_resolution_at"),
        required=False,
        help_text=_("The estimated time told to the customer."),
    )


class AttachmentForm(ServiceErrorsMixin, forms.Form):
    files = MultipleFileField(label=_("evidence files"))
    description = forms.CharField(
        label=_("description"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("What the files show (optional)")}),
    )

    SERVICE_FIELDS = {"file": "files"}


class BulkAssignForm(ServiceErrorsMixin, forms.Form):
    department = department_field()
    assignee = StaffChoiceField(label=_label(Case, "assignee"))


class ReturnStepForm(ServiceErrorsMixin, forms.Form):
    """The input one return/exchange step asks for (review comment, tracking number …)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    review_comment = forms.CharField(
        label=_label(ReturnRequest, "review_comment"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
    )
    tracking_no = forms.CharField(label=_label(ReturnRequest, "tracking_no"), max_length=64)
    inspection_result = forms.CharField(
        label=_label(ReturnRequest, "inspection_result"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
    )
    refund_method = forms.ChoiceField(
        label=_label(ReturnRequest, "refund_method"), choices=RefundMethod.choices
    )
    refund_amount = forms.DecimalField(
        label=_label(ReturnRequest, "refund_amount"), min_value=0, max_digits=10, decimal_places=2
    )

    def __init__(self, *args, inputs, **kwargs):
        super().__init__(*args, **kwargs)
        wanted = dict(inputs)
        for name in ["review_comment", "tracking_no", "inspection_result", "refund_method",
                     "refund_amount"]:  # fmt: skip
            if name not in wanted:
                del self.fields[name]
            else:
                self.fields[name].required = wanted[name]

    def service_kwargs(self):
        return {k: v for k, v in self.cleaned_data.items() if k != "expected_version"}


class TechnicalRequestForm(ServiceErrorsMixin, forms.Form):
    """Ask another department (e.g. 技术部) for help; its answer has its own deadline."""

    department = department_field(help_text=_("The department that should answer."))
    question = forms.CharField(
        label=_label(TechnicalRequest, "question"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
        help_text=_("What the case needs from them: the problem, what was tried, order numbers."),
    )

    def __init__(self, *args, exclude_department=None, **kwargs):
        super().__init__(*args, **kwargs)
        if exclude_department is not None:
            field = self.fields["department"]
            field.queryset = field.queryset.exclude(pk=exclude_department)


class TechnicalAnswerForm(ServiceErrorsMixin, forms.Form):
    answer = forms.CharField(
        label=_label(TechnicalRequest, "answer"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
    )
