"""Questionnaires: drafts, publishing, new versions, and checking answers against a version."""

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    CHOICE_KINDS,
    TEXT_ANSWER_MAX_LENGTH,
    Choice,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    VersionStatus,
)

#: The questionnaire satisfaction surveys use (shipped by migration 0002).
SATISFACTION_QUESTIONNAIRE = "satisfaction-callback"


# ---------------------------------------------------------------------------------------------
# Questionnaires


def questionnaire_version_check_editable(*, version):
    """Raise ValidationError unless `version` is a draft (published/retired are read-only)."""
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            _(
                "Version %(number)s is %(status)s and can no longer be changed; "
                "create a new version instead."
            )
            % {"number": version.number, "status": version.get_status_display()},
            code="read_only",
        )


def questionnaire_version_update(*, version, user, **fields):
    """Change a draft's greeting/closing (and their translations). Published or retired
    versions refuse."""
    allowed = {"greeting", "closing", "greeting_translations", "closing_translations"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    with transaction.atomic():
        version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
        questionnaire_version_check_editable(version=version)
        for name, value in fields.items():
            setattr(version, name, value)
        version.save(update_fields=list(fields))
    return version


def _publish_problems(version):
    errors = []
    questions = list(version.questions.prefetch_related("choices"))
    if not questions:
        errors.append(_("A questionnaire needs at least one question."))
    for q in questions:
        choices = list(q.choices.all())
        if q.kind in CHOICE_KINDS and len(choices) < 2:
            errors.append(_("Question “%(code)s” needs at least two choices.") % {"code": q.code})
        if q.kind == QuestionKind.SCALE5 and any(c.score is None for c in choices):
            errors.append(
                _("Every option of the rating question “%(code)s” needs a score.")
                % {"code": q.code}
            )
        if q.is_overall_satisfaction and q.kind != QuestionKind.SCALE5:
            errors.append(
                _("The overall satisfaction question “%(code)s” must be a rating scale.")
                % {"code": q.code}
            )
    return errors


def questionnaire_publish(*, version, user):
    """Make the draft `version` the one in use; the previously published one is retired."""
    with transaction.atomic():
        # Lock the questionnaire row so two publishers serialise.
        Questionnaire.objects.select_for_update().get(pk=version.questionnaire_id)
        version = QuestionnaireVersion.objects.get(pk=version.pk)
        if version.status != VersionStatus.DRAFT:
            raise ValidationError(
                _("Only a draft can be published; version %(number)s is %(status)s.")
                % {"number": version.number, "status": version.get_status_display()},
                code="not_draft",
            )
        problems = _publish_problems(version)
        if problems:
            raise ValidationError(problems, code="incomplete")
        QuestionnaireVersion.objects.filter(
            questionnaire_id=version.questionnaire_id, status=VersionStatus.PUBLISHED
        ).update(status=VersionStatus.RETIRED)
        version.status = VersionStatus.PUBLISHED
        version.published_at = timezone.now()
        version.published_by = user
        version.save(update_fields=["status", "published_at", "published_by"])
    return version


def questionnaire_new_version(*, questionnaire, user):
    """A new draft version, copying the published (else the latest) version's content.

    Refused while a draft already exists: finish or delete that one first.
    """
    with transaction.atomic():
        questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        draft = questionnaire.versions.filter(status=VersionStatus.DRAFT).first()
        if draft:
            raise ValidationError(
                _("Version %(number)s is already a draft; edit that one.")
                % {"number": draft.number},
                code="draft_exists",
            )
        source = (
            questionnaire.versions.filter(status=VersionStatus.PUBLISHED).first()
            or questionnaire.versions.order_by("-number").first()
        )
        number = (questionnaire.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        new = QuestionnaireVersion.objects.create(
            questionnaire=questionnaire,
            number=number,
            greeting=source.greeting if source else "",
            closing=source.closing if source else "",
            greeting_translations=source.greeting_translations if source else {},
            closing_translations=source.closing_translations if source else {},
            created_by=user,
        )
        if source:
            for q in source.questions.prefetch_related("choices"):
                choices = list(q.choices.all())
                copy = Question.objects.create(
                    version=new,
                    order=q.order,
                    code=q.code,
                    text=q.text,
                    translations=q.translations,
                    kind=q.kind,
                    required=q.required,
                    is_overall_satisfaction=q.is_overall_satisfaction,
                    problem_category=q.problem_category,
                )
                Choice.objects.bulk_create(
                    Choice(
                        question=copy,
                        order=c.order,
                        label=c.label,
                        score=c.score,
                        translations=c.translations,
                    )
                    for c in choices
                )
    return new


def _choice_by_id(choices, value):
    try:
        pk = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return choices.get(pk)


def validate_answers(*, version, answers):
    """Check `answers` ({question code: value}) against `version`.

    Values: a choice id for rating and single-choice questions, a list of choice ids for
    multiple choice, a string for open text. Returns {code: Choice | [Choice] | str} for the
    questions answered, or raises ValidationError keyed by question code.
    """
    answers = answers or {}
    cleaned, errors = {}, {}
    questions = list(version.questions.prefetch_related("choices"))
    known = {q.code for q in questions}
    for code in answers:
        if code not in known:
            errors[code] = _("There is no such question in this questionnaire.")
    for q in questions:
        value = answers.get(q.code)
        if isinstance(value, str):
            value = value.strip()
        empty = value is None or value == "" or value == [] or value == ()
        if empty:
            if q.required:
                errors[q.code] = _("Please answer this question.")
            continue
        if q.kind == QuestionKind.TEXT:
            if not isinstance(value, str):
                errors[q.code] = _("Please answer in text.")
            elif "\x00" in value:
                # PostgreSQL refuses NUL in text: a field error, not a failed INSERT.
                errors[q.code] = ProhibitNullCharactersValidator.message
            elif len(value) > TEXT_ANSWER_MAX_LENGTH:
                errors[q.code] = _(
                    "Please keep the answer under %(max)s characters (it has %(len)s)."
                ) % {"max": TEXT_ANSWER_MAX_LENGTH, "len": len(value)}
            else:
                cleaned[q.code] = value
            continue
        choices = {c.pk: c for c in q.choices.all()}
        if q.kind == QuestionKind.MULTIPLE:
            values = value if isinstance(value, (list, tuple)) else [value]
            picked = [_choice_by_id(choices, v) for v in values]
            if any(c is None for c in picked):
                errors[q.code] = _("Please pick from the options offered.")
            else:
                cleaned[q.code] = sorted(set(picked), key=lambda c: (c.order, c.pk))
            continue
        if isinstance(value, (list, tuple)):
            if len(value) != 1:
                errors[q.code] = _("Please pick only one option.")
                continue
            value = value[0]
        choice = _choice_by_id(choices, value)
        if choice is None:
            errors[q.code] = _("Please pick from the options offered.")
        else:
            cleaned[q.code] = choice
    if errors:
        raise ValidationError(errors)
    return cleaned
