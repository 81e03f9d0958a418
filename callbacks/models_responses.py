"""A customer's answers: responses, answers, problems reported, and the satisfaction summary."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import BoundedTextField

from .models_followups import FollowUp
from .models_questionnaires import Choice, ProblemCategory, Question, QuestionnaireVersion
from .models_surveys import Grade, Method, Survey, _of_visible_cases


class ResponseQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _of_visible_cases(self, user)


#: What the satisfaction figures count of an answer (callbacks.stats): included in its indexes.
FIGURES = ["customer", "overall_score", "has_problem"]


class Response(models.Model):
    """A customer's answers to one questionnaire version, from a survey link or a call."""

    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="responses",
        verbose_name=_("questionnaire version"),
    )
    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        related_name="survey_responses",
        verbose_name=_("customer"),
    )
    case = models.ForeignKey(
        "complaints.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("case"),
    )
    survey = models.OneToOneField(
        Survey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="response",
        verbose_name=_("survey"),
    )
    followup = models.OneToOneField(
        FollowUp,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="response",
        verbose_name=_("follow-up call"),
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    # Indexed by callbacks_response_stats below (answered_at first).
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)
    overall_score = models.PositiveSmallIntegerField(_("overall score"), null=True, blank=True)
    has_problem = models.BooleanField(_("reported a problem"), default=False)
    suggestions = BoundedTextField(_("suggestions"), blank=True)
    # Snapshots for the metrics' group-by: who and which channel the answer is about.
    department = models.ForeignKey(
        "staff.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
        db_index=False,  # callbacks_response_by_dept leads with it
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
        db_index=False,  # callbacks_response_by_agent leads with it
    )
    case_channel = models.CharField(_("case channel"), max_length=10, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    objects = ResponseQuerySet.as_manager()

    class Meta:
        verbose_name = _("questionnaire answer")
        verbose_name_plural = _("questionnaire answers")
        ordering = ["-answered_at"]
        indexes = [
            # The satisfaction figures (callbacks.stats) read answers by answered_at range, or
            # by group and answered_at range, and need only the columns included: index-only
            # scans, the table is not read, and a GROUP BY of a group column reads its index
            # in order (no sort).
            models.Index(fields=["answered_at"], include=FIGURES, name="callbacks_response_stats"),
            models.Index(
                fields=["department", "answered_at"],
                include=FIGURES,
                name="callbacks_response_by_dept",
            ),
            models.Index(
                fields=["agent", "answered_at"], include=FIGURES, name="callbacks_response_by_agent"
            ),
            models.Index(
                fields=["case_channel", "answered_at"],
                include=FIGURES,
                name="callbacks_response_by_channel",
            ),
            # … and the answer list's filter by method.
            models.Index(
                fields=["method", "-answered_at"], include=FIGURES, name="callbacks_response_method"
            ),
            # The written suggestions of a period (opinion concentration): few answers have one.
            models.Index(
                fields=["answered_at"],
                name="callbacks_response_suggested",
                condition=~Q(suggestions=""),
            ),
            # The answer list's filters.
            models.Index(fields=["overall_score"], name="callbacks_response_score"),
            models.Index(
                fields=["-answered_at"],
                name="callbacks_response_problem",
                condition=Q(has_problem=True),
            ),
        ]

    def __str__(self):
        return _("%(customer)s on %(at)s") % {
            "customer": self.customer,
            "at": timezone.localtime(self.answered_at).strftime("%Y-%m-%d"),
        }


class Answer(models.Model):
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", verbose_name=_("answers")
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="+", verbose_name=_("question")
    )
    choice = models.ForeignKey(
        Choice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("choice"),
    )
    text = BoundedTextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["response", "question__order", "pk"]

    def __str__(self):
        return self.choice.label if self.choice_id else self.text


class ProblemReport(models.Model):
    """A problem a customer raised in a follow-up: classified, graded, and turned into a case."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="problems", verbose_name=_("answers")
    )
    category = models.CharField(
        _("problem category"), max_length=30, choices=ProblemCategory.choices
    )
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    description = BoundedTextField(_("description"))
    case = models.OneToOneField(
        "complaints.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="source_problem",
        verbose_name=_("case opened"),
    )

    class Meta:
        verbose_name = _("problem found")
        verbose_name_plural = _("problems found")
        ordering = ["-pk"]

    def __str__(self):
        return self.description[:50]


class SatisfactionSummary(Response):
    """No data of its own: the admin's satisfaction summary page (满意度统计) hangs on it, and
    its one permission, "view", is who may see the satisfaction figures (page and API)."""

    class Meta:
        proxy = True
        verbose_name = _("satisfaction summary")
        verbose_name_plural = _("satisfaction summary")
        default_permissions = ("view",)
