"""Forms of the callback queue's call page: they parse what the agent entered for
services.followup_record_call and put the service's errors back on the fields and questions.
They never save anything themselves."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.admin_forms import DateTimeLocalField, ServiceErrorsMixin

from .models import (
    TEXT_ANSWER_MAX_LENGTH,
    CallAttempt,
    Grade,
    Method,
    ProblemCategory,
    ProblemReport,
    QuestionKind,
)

BLANK = [("", "---------")]
REACHED_CHOICES = [("yes", _("Yes, I spoke with the customer")), ("no", _("No, not reached"))]
EXTRA_PROBLEM_ROWS = 3
MAX_PROBLEM_ROWS = 20


def question_field_name(code):
    # Prefixed: a question's code may be any slug, "suggestions" and "note" included.
    return f"q_{code}"


def _label(model, field):
    return model._meta.get_field(field).verbose_name


class CallForm(ServiceErrorsMixin, forms.Form):
    """One call: how and when, reached or not, a note, and — when reached — the answers to
    the follow-up's questionnaire (one field per question) and the suggestions heard."""

    method = forms.ChoiceField(
        label=_label(CallAttempt, "method"),
        choices=Method.choices,
        initial=Method.PHONE,
        widget=forms.RadioSelect,
    )
    at = DateTimeLocalField(label=_("time of the call"))
    reached = forms.TypedChoiceField(
        label=_("reached the customer"),
        choices=REACHED_CHOICES,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_label(CallAttempt, "note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: no answer, line busy, asked to call back after 18:00."),
    )
    suggestions = forms.CharField(
        label=_("suggestions"),
        required=False,
        max_length=TEXT_ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, questions=(), **kwargs):
        kwargs.setdefault("initial", {"at": timezone.localtime().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        self.SERVICE_FIELDS = {q.code: question_field_name(q.code) for q in self.questions}
        for q in self.questions:
            self.fields[question_field_name(q.code)] = self._question_field(q)

    @staticmethod
    def _question_field(question):
        # Not required here: answers are only asked for when the customer was reached, and
        # the service (validate_answers) is the one judge of which are required.
        common = {"label": question.text, "required": False}
        if question.kind == QuestionKind.TEXT:
            return forms.CharField(
                max_length=TEXT_ANSWER_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
                **common,
            )
        choices = [(str(c.pk), c.label) for c in question.choices.all()]
        if question.kind == QuestionKind.MULTIPLE:
            return forms.MultipleChoiceField(
                choices=choices, widget=forms.CheckboxSelectMultiple, **common
            )
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reached") is False:
            # The answers were not asked: whatever is in their fields does not count.
            for q in self.questions:
                self._errors.pop(question_field_name(q.code), None)
        return cleaned

    def question_rows(self):
        """(question, bound field) pairs for the template, in the questionnaire's order."""
        return [(q, self[question_field_name(q.code)]) for q in self.questions]

    def answers(self):
        """{question code: value} of the questions answered, as validate_answers takes them."""
        answers = {}
        for q in self.questions:
            name = question_field_name(q.code)
            if name in self.errors:  # already wrong: validate_answers would say so twice
                continue
            value = self.cleaned_data.get(name)
            if value not in (None, "", []):
                answers[q.code] = value
        return answers

    def service_kwargs(self):
        data = self.cleaned_data
        kwargs = {
            "method": data["method"],
            "at": data["at"],
            "reached": data["reached"],
            "note": data["note"],
        }
        if data["reached"]:
            kwargs["answers"] = self.answers()
            kwargs["suggestions"] = data["suggestions"]
        return kwargs


class ProblemForm(forms.Form):
    """A problem the customer raised on the call, classified and graded by the agent."""

    category = forms.ChoiceField(
        label=_label(ProblemReport, "category"), choices=BLANK + ProblemCategory.choices
    )
    grade = forms.ChoiceField(label=_label(ProblemReport, "grade"), choices=BLANK + Grade.choices)
    description = forms.CharField(
        label=_label(ProblemReport, "description"),
        max_length=TEXT_ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


ProblemFormSet = forms.formset_factory(
    ProblemForm, extra=EXTRA_PROBLEM_ROWS, max_num=MAX_PROBLEM_ROWS, validate_max=True
)


def problem_formset(data=None):
    return ProblemFormSet(data, prefix="problems")


def problems_entered(formset):
    """The rows the agent filled in (blank rows are left out)."""
    return [form.cleaned_data for form in formset.forms if form.has_changed() and form.cleaned_data]
