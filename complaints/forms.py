"""Forms of the public pages: the web form customers use to reach us (在线表单)."""

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from .models import (
    CaseType,
    Category,
    ContactMethod,
    ReturnReason,
    validate_attachment,
)


def max_files():
    return settings.PUBLIC_FORM_MAX_FILES


def max_total_bytes():
    # nginx's client_max_body_size (12m) caps a whole request a little above one attachment;
    # by default the files of one submission may add up to one attachment's limit.
    return settings.PUBLIC_FORM_MAX_TOTAL_BYTES


def _megabytes(n):
    return f"{n / 1048576:.0f}" if n >= 1048576 else f"{n / 1048576:.2f}"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; cleans to a list (empty when none was chosen)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        files = [f for f in files if f]
        if not files and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        errors = []
        for f in files:
            try:
                super().clean(f, initial)
                validate_attachment(f)
            except ValidationError as exc:
                errors.extend(
                    ValidationError("%(name)s: %(error)s", params={"name": f.name, "error": m})
                    for m in exc.messages
                )
        if len(files) > max_files():
            errors.append(
                ValidationError(
                    _("You can attach at most %(count)s files."),
                    params={"count": max_files()},
                    code="too_many_files",
                )
            )
        total = sum(f.size for f in files)
        if total > max_total_bytes():
            errors.append(
                ValidationError(
                    _(
                        "The files add up to %(size)s MB; together they may be at most %(limit)s MB."
                    ),
                    params={"size": _megabytes(total), "limit": _megabytes(max_total_bytes())},
                    code="total_size",
                )
            )
        if errors:
            raise ValidationError(errors)
        return files


def _choices(choices):
    return [("", "---------"), *choices]


# Our categories (问题性质) in a customer's words.
PLAIN_CATEGORIES = [
    (Category.PRODUCT, _("The goods themselves (quality, faults)")),
    (Category.LOGISTICS, _("Delivery and parcels")),
    (Category.SERVICE, _("How our staff treated you")),
    (Category.TECHNICAL, _("Our app, website or your account")),
    (Category.PROCESS, _("Refunds, returns and other procedures")),
    (Category.OTHER, _("Something else")),
]

# Words customers use, per category; the first category with a hit wins.
CATEGORY_WORDS = [
    (
        Category.LOGISTICS,
        ["快递", "物流", "配送", "送货", "包裹", "签收", "派送", "运单", "没收到"],
    ),
    (
        Category.TECHNICAL,
        ["APP", "app", "闪退", "登录", "登陆", "账号", "密码", "验证码", "网站", "系统", "页面"],
    ),
    (Category.SERVICE, ["态度", "客服", "服务员", "工作人员", "不理", "骂"]),
    (Category.PROCESS, ["退款", "发票", "手续", "流程", "审核", "积分"]),
    (Category.PRODUCT, ["质量", "坏了", "损坏", "故障", "不工作", "破损", "异味", "漏水", "过期"]),
]


def guess_category(*, case_type, text):
    """The category of a request whose sender did not choose one: from their words, then
    from the kind of request (a return is about the goods), else "other"."""
    for category, words in CATEGORY_WORDS:
        if any(word in text for word in words):
            return category
    if case_type == CaseType.RETURN_EXCHANGE:
        return Category.PRODUCT
    return Category.OTHER


class PublicCaseForm(forms.Form):
    """What a customer tells us on the web. The view hands `intake_data()` to case_intake;
    the service stays the judge of the data and its errors come back onto these fields."""

    # about you
    name = forms.CharField(
        label=_("Your name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    member_no = forms.CharField(
        label=_("Member number"),
        max_length=40,
        required=False,
        help_text=_("If you have one; it helps us find your orders."),
    )
    preferred_contact = forms.ChoiceField(
        label=_("How should we contact you?"),
        choices=ContactMethod.choices,
        initial=ContactMethod.PHONE,
    )
    # your request
    type = forms.ChoiceField(label=_("What is it about?"), choices=_choices(CaseType.choices))
    # Our 问题性质 is an internal classification: customers are asked in plain words, may
    # skip it, and a skipped answer is inferred from what they wrote (guess_category).
    category = forms.ChoiceField(
        label=_("Which part of our service is it about?"),
        choices=[("", _("Not sure")), *PLAIN_CATEGORIES],
        required=False,
        help_text=_("Not sure? Leave it; we will sort it out."),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        help_text=_("One line, e.g. “Parcel not delivered after five days”."),
    )
    description = forms.CharField(
        label=_("What happened?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("In your own words: what happened, when, and what you have tried."),
    )
    expected_outcome = forms.CharField(
        label=_("What would you like us to do?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    order_no = forms.CharField(label=_("Order number"), max_length=64, required=False)
    product = forms.CharField(label=_("Product"), max_length=200, required=False)
    # return / exchange only
    purchase_date = forms.DateField(
        label=_("Purchase date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    return_reason = forms.ChoiceField(
        label=_("Reason for the return"),
        choices=_choices(ReturnReason.choices),
        required=False,
    )
    unopened = forms.BooleanField(
        label=_("The goods are unopened and can be resold"),
        required=False,
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_(
            "Photos, screenshots, video or documents as evidence: at most %(count)s files, "
            "%(limit)s MB in total."
        ),
    )
    consent = forms.BooleanField(
        label=_("I agree to the processing of my personal data for this request"),
        help_text=_(
            "We use the personal data you give here (name, contact details, order and the "
            "content of your request) only to handle this request and to contact you about it, "
            "and keep it no longer than the law requires."
        ),
        error_messages={
            "required": _("We can only handle your request with your consent to this processing.")
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = self.fields["attachments"].help_text % {
            "count": max_files(),
            "limit": _megabytes(max_total_bytes()),
        }
        self.fields["attachments"].widget.attrs["data-max-files"] = max_files()

    def clean(self):
        data = super().clean()
        phone, email = data.get("phone"), data.get("email")
        if not phone and not email and not {"phone", "email"} & set(self.errors):
            self.add_error(
                "phone", _("Give a mobile phone number or an e-mail address so we can reply.")
            )
        preferred = data.get("preferred_contact")
        if preferred == ContactMethod.EMAIL and phone and not email:
            self.add_error("email", _("You chose e-mail: enter your e-mail address."))
        if preferred in (ContactMethod.PHONE, ContactMethod.SMS) and email and not phone:
            self.add_error("phone", _("You chose phone or SMS: enter your phone number."))
        if data.get("type") == CaseType.RETURN_EXCHANGE:
            required = {
                "order_no": _("Enter the order number of the goods you want to return."),
                "product": _("Enter the product you want to return."),
                "purchase_date": _("Enter the date you bought the goods."),
                "return_reason": _("Choose the reason for the return."),
            }
            for field, message in required.items():
                if not data.get(field) and field not in self.errors:
                    self.add_error(field, message)
        return data

    def intake_data(self):
        """Keyword arguments for services.case_intake (channel and user added by the view)."""
        d = self.cleaned_data
        data = {
            "customer": {
                "name": d["name"],
                "phone": d["phone"],
                "email": d["email"],
                "member_no": d["member_no"],
                "preferred_contact": d["preferred_contact"],
            },
            "subject": d["subject"],
            # The customer's own words are also the first description; staff rewrite the
            # description objectively while customer_words keeps what they said.
            "description": d["description"],
            "customer_words": d["description"],
            "expected_outcome": d["expected_outcome"],
            "type": d["type"],
            "category": d["category"]
            or guess_category(
                case_type=d["type"],
                text=" ".join([d["subject"], d["description"], d["product"]]),
            ),
            "order_no": d["order_no"],
            "product": d["product"],
            "attachments": d["attachments"],
            "remarks": str(
                _("The customer consented to the processing of personal data on the web form.")
            ),
        }
        if d["type"] == CaseType.RETURN_EXCHANGE:
            data["return_request"] = {
                "purchase_date": d["purchase_date"],
                "reason": d["return_reason"],
                "unopened": d["unopened"],
            }
        return data

    # Service field names that are called differently here.
    SERVICE_FIELDS = {
        "customer_words": "description",
        "evidence_notes": "description",
        "reason": "return_reason",
    }

    def add_service_errors(self, exc):
        """Put a ValidationError from the intake service onto the fields it concerns."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, messages in exc.message_dict.items():
            field = key.removeprefix("return_request.")
            field = self.SERVICE_FIELDS.get(field, field)
            if field == NON_FIELD_ERRORS or field not in self.fields:
                self.add_error(None, messages)
            else:
                self.add_error(field, messages)
