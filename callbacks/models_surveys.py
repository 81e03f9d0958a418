"""Satisfaction surveys of cases, and the choices surveys, calls and answers share."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models_questionnaires import QuestionnaireVersion

# ---------------------------------------------------------------------------------------------
# Surveys, follow-up calls and their answers


class SurveyChannel(models.TextChoices):
    EMAIL = "email", _("E-mail link")
    SMS = "sms", _("SMS link")
    PHONE = "phone", _("Phone callback")


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    EXPIRED = "expired", _("Expired unanswered")
    FAILED = "failed", _("Could not be sent")
    CANCELLED = "cancelled", _("Cancelled")


class Method(models.TextChoices):
    """How a follow-up was made (回访方式)."""

    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    ONLINE = "online", _("Online questionnaire")
    FACE = "face", _("Face to face")


class Grade(models.TextChoices):
    """The handbook's grades for a problem found in a follow-up."""

    MAJOR = "major", _("Major")
    IMPORTANT = "important", _("Important")
    GENERAL = "general", _("General")


def _of_visible_cases(queryset, user, *also):
    """Rows of cases `user` may see (Case.objects.visible_to is the one rule), plus rows about
    no case (deliveries, samples, periodic calls: the callback team's own work) and `also`."""
    if user.sees_all_departments:
        return queryset
    from complaints.models import Case

    q = Q(case__isnull=True) | Q(case__in=Case.objects.visible_to(user).values("pk"))
    for extra in also:
        q |= extra
    return queryset.filter(q)


class SurveyQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _of_visible_cases(self, user)


class Survey(models.Model):
    """The satisfaction survey of one case (满意度回访). One per case, ever: the one-to-one
    key is what makes "never twice for the same case" hold whatever the sweeps do."""

    case = models.OneToOneField(
        "complaints.Case", on_delete=models.PROTECT, related_name="survey", verbose_name=_("case")
    )
    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        related_name="surveys",
        verbose_name=_("customer"),
    )
    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="surveys",
        verbose_name=_("questionnaire version"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=SurveyChannel.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=SurveyStatus.choices, default=SurveyStatus.SCHEDULED
    )
    # The random half of the link's token; the signature is the other half (see tokens.py).
    nonce = models.CharField(max_length=32, unique=True, editable=False)
    send_at = models.DateTimeField(_("send at"))
    window_ends_at = models.DateTimeField(
        _("follow-up window ends"), help_text=_("From the plan's satisfaction follow-up stage.")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    remind_at = models.DateTimeField(_("reminder due"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Set by the sweep's conditional UPDATE: the rows one sweep run owns (see services).
    claim = models.CharField(max_length=32, blank=True, editable=False, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-send_at"]
        indexes = [
            models.Index(fields=["status", "send_at"], name="callbacks_survey_due"),
            models.Index(fields=["status", "remind_at"], name="callbacks_survey_remind"),
            models.Index(fields=["status", "expires_at"], name="callbacks_survey_expiry"),
        ]

    def __str__(self):
        return _("Survey for %(case)s") % {"case": self.case.number}

    @property
    def is_open(self):
        return self.status in (SurveyStatus.SENT,) and self.answered_at is None
