"""Follow-up questionnaires (回访问卷): questionnaires, their numbered versions, questions
and choices."""

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .languages import in_language, validate_translations


class QuestionKind(models.TextChoices):
    SCALE5 = "scale5", _("Rating scale")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Open text")


CHOICE_KINDS = (QuestionKind.SCALE5, QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class ProblemCategory(models.TextChoices):
    """The handbook's classes of problems found in a follow-up (§2)."""

    PRODUCT_QUALITY = "product_quality", _("Product quality")
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    TECHNICAL_SUPPORT = "technical_support", _("Technical support")
    DELIVERY = "delivery", _("Delivery")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


# The handbook's wording sets for rating scales, best first, as (label, score). Labels are
# questionnaire content shown to customers in Chinese, so they are data, not msgids.
# "needs" has only four options in the handbook; it is scored 5/4/3/1 so that every scale
# shares the 1-5 range and "4 or 5 = positive" (the satisfaction-rate rule) means the same
# thing on every question: 完全满足 and 基本满足 count as positive, 不满足 is the bottom.
SCALE_SETS = {
    "satisfaction": [("非常满意", 5), ("满意", 4), ("一般", 3), ("不满意", 2), ("非常不满意", 1)],
    "quality": [("很好", 5), ("较好", 4), ("一般", 3), ("较差", 2), ("很差", 1)],
    "promptness": [("总是能", 5), ("经常能", 4), ("有时能", 3), ("很少能", 2), ("不能", 1)],
    "needs": [("完全满足", 5), ("基本满足", 4), ("部分满足", 3), ("不满足", 1)],
}

TEXT_ANSWER_MAX_LENGTH = 2000


class Questionnaire(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive questionnaires are not sent out.")
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def published_version(self):
        return self.versions.filter(status=VersionStatus.PUBLISHED).first()


HOTLINE_PLACEHOLDER = "{热线}"


def with_hotline(text):
    hotline = getattr(settings, "SERVICE_HOTLINE", "")
    if not hotline:
        # The phrase that names it goes too, in each customer language's wording.
        label = r"(客服热线|热线|customer service hotline|カスタマーサービス|고객센터)?"
        pattern = r"[：:，,]?\s*" + label + r"[：:]?\s*" + re.escape(HOTLINE_PLACEHOLDER)
        return re.sub(pattern, "", text).rstrip()
    return text.replace(HOTLINE_PLACEHOLDER, hotline)


class QuestionnaireVersion(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("questionnaire"),
    )
    number = models.PositiveIntegerField(_("version"))
    greeting = models.TextField(
        _("greeting"), blank=True, help_text=_("Thanks the customer and states the purpose.")
    )
    closing = models.TextField(
        _("closing"), blank=True, help_text=_("Thanks again and says how to contact us.")
    )
    greeting_translations = models.JSONField(
        _("greeting in other languages"), default=dict, blank=True,
        validators=[validate_translations], help_text=_('Other languages, e.g. {"en": "…", "ja": "…", "ko": "…"}; Chinese is used where one is missing.'),
    )  # fmt: skip
    closing_translations = models.JSONField(
        _("closing in other languages"), default=dict, blank=True,
        validators=[validate_translations], help_text=_('Other languages, e.g. {"en": "…", "ja": "…", "ko": "…"}; Chinese is used where one is missing.'),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")
        ordering = ["questionnaire", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="callbacks_questionnaire_version_number"
            ),
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=Q(status="published"),
                name="callbacks_one_published_version",
            ),
        ]

    def __str__(self):
        return _("%(name)s v%(number)s") % {"name": self.questionnaire.name, "number": self.number}

    @property
    def closing_text(self):
        """The closing as customers read it: {热线} becomes the service hotline (the
        SERVICE_HOTLINE setting); with none set, "客服热线 {热线}" is left out."""
        return with_hotline(self.closing)

    @property
    def is_editable(self):
        return self.status == VersionStatus.DRAFT

    def greeting_in(self, language):
        return in_language(self.greeting, self.greeting_translations, language)

    def closing_in(self, language):
        """The closing in `language` (Chinese when it has none), {热线} filled in."""
        return with_hotline(in_language(self.closing, self.closing_translations, language))


class Question(models.Model):
    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("questionnaire version"),
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    code = models.SlugField(
        _("code"),
        max_length=50,
        help_text=_("A stable key, kept across versions (e.g. overall, quality)."),
    )
    text = models.CharField(_("question"), max_length=500)
    translations = models.JSONField(
        _("question in other languages"), default=dict, blank=True,
        validators=[validate_translations], help_text=_('Other languages, e.g. {"en": "…", "ja": "…", "ko": "…"}; Chinese is used where one is missing.'),
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=20, choices=QuestionKind.choices)
    required = models.BooleanField(_("required"), default=True)
    is_overall_satisfaction = models.BooleanField(
        _("overall satisfaction"),
        default=False,
        help_text=_("Its score feeds the satisfaction metrics. At most one per version."),
    )
    problem_category = models.CharField(
        _("problem category"),
        max_length=30,
        choices=ProblemCategory.choices,
        blank=True,
        help_text=_("For “did you have a problem?” questions: the class a reported problem gets."),
    )

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"], name="callbacks_question_code_per_version"
            ),
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(is_overall_satisfaction=True),
                name="callbacks_one_overall_question",
            ),
        ]

    def __str__(self):
        return self.text

    @property
    def has_choices(self):
        return self.kind in CHOICE_KINDS

    def text_in(self, language):
        return in_language(self.text, self.translations, language)


class Choice(models.Model):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question")
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    label = models.CharField(_("label"), max_length=200)
    translations = models.JSONField(
        _("label in other languages"), default=dict, blank=True,
        validators=[validate_translations], help_text=_('Other languages, e.g. {"en": "…", "ja": "…", "ko": "…"}; Chinese is used where one is missing.'),
    )  # fmt: skip
    score = models.SmallIntegerField(
        _("score"),
        null=True,
        blank=True,
        help_text=_("For rating scales: 5 for the best option down to 1."),
    )

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["question", "order", "id"]

    def __str__(self):
        return self.label

    def label_in(self, language):
        return in_language(self.label, self.translations, language)
