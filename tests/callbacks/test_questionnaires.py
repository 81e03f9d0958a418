"""Questionnaires: the shipped handbook questionnaire, versioning (publish / new version /
read-only once in use), answer validation, and the admin pages."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from callbacks import services
from callbacks.models import (
    Choice,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    VersionStatus,
)

pytestmark = pytest.mark.django_db

HANDBOOK_CODE = "satisfaction-callback"


def handbook():
    return Questionnaire.objects.get(code=HANDBOOK_CODE)


def published(questionnaire):
    return questionnaire.versions.get(status=VersionStatus.PUBLISHED)


def labels(question):
    return [c.label for c in question.choices.all()]


def scores(question):
    return [c.score for c in question.choices.all()]


def make_questionnaire(code="q", questions=3):
    """A questionnaire with a draft v1 of `questions` scale questions (plus one text)."""
    questionnaire = Questionnaire.objects.create(code=code, name=f"问卷 {code}")
    version = QuestionnaireVersion.objects.create(
        questionnaire=questionnaire, number=1, greeting="您好", closing="谢谢"
    )
    for i in range(questions):
        q = Question.objects.create(
            version=version,
            order=i,
            code=f"s{i}",
            text=f"评价 {i}",
            kind=QuestionKind.SCALE5,
            is_overall_satisfaction=i == 0,
        )
        for n, (label, score) in enumerate([("满意", 5), ("一般", 3), ("不满意", 1)]):
            Choice.objects.create(question=q, order=n, label=label, score=score)
    Question.objects.create(
        version=version, order=99, code="note", text="其他建议", kind="text", required=False
    )
    return questionnaire, version


# --- the shipped questionnaire -----------------------------------------------------------------


def test_handbook_questionnaire_is_shipped_published_in_chinese():
    questionnaire = handbook()
    assert questionnaire.name == "客户满意度回访问卷"
    version = published(questionnaire)
    assert version.number == 1
    assert "感谢" in version.greeting
    assert "感谢" in version.closing and "客服热线" in version.closing

    questions = {q.code: q for q in version.questions.prefetch_related("choices")}
    assert list(questions) == [
        "overall",
        "quality",
        "quality_problem",
        "attitude",
        "promptness",
        "needs",
        "difficulty",
        "suggestions",
        "improvements",
    ]
    overall = questions["overall"]
    assert overall.is_overall_satisfaction and overall.required
    assert "整体满意度" in overall.text
    assert labels(overall) == ["非常满意", "满意", "一般", "不满意", "非常不满意"]
    assert scores(overall) == [5, 4, 3, 2, 1]
    assert labels(questions["quality"]) == ["很好", "较好", "一般", "较差", "很差"]
    assert labels(questions["attitude"]) == labels(overall)
    assert labels(questions["promptness"]) == ["总是能", "经常能", "有时能", "很少能", "不能"]
    assert labels(questions["needs"]) == ["完全满足", "基本满足", "部分满足", "不满足"]
    assert scores(questions["needs"]) == [5, 4, 3, 1]

    problem = questions["quality_problem"]
    assert problem.kind == QuestionKind.TEXT and not problem.required
    assert problem.problem_category == "product_quality"
    for code in ["difficulty", "suggestions", "improvements"]:
        assert questions[code].kind == QuestionKind.TEXT and not questions[code].required
    assert [q.code for q in questions.values() if q.is_overall_satisfaction] == ["overall"]


# --- versioning --------------------------------------------------------------------------------


def test_new_version_copies_questions_and_choices_into_a_draft(manager):
    questionnaire = handbook()
    v1 = published(questionnaire)

    v2 = services.questionnaire_new_version(questionnaire=questionnaire, user=manager)

    assert (v2.number, v2.status) == (2, VersionStatus.DRAFT)
    assert v2.greeting == v1.greeting and v2.closing == v1.closing
    old = list(v1.questions.prefetch_related("choices"))
    new = list(v2.questions.prefetch_related("choices"))
    assert [(q.code, q.text, q.kind, q.required) for q in new] == [
        (q.code, q.text, q.kind, q.required) for q in old
    ]
    assert [(labels(q), scores(q)) for q in new] == [(labels(q), scores(q)) for q in old]
    assert {c.question.version_id for q in new for c in q.choices.all()} == {v2.pk}
    # Still the one in use until the draft is published.
    assert published(questionnaire) == v1

    with pytest.raises(ValidationError):  # one draft at a time
        services.questionnaire_new_version(questionnaire=questionnaire, user=manager)


def test_publish_retires_the_version_in_use(manager):
    questionnaire = handbook()
    v1 = published(questionnaire)
    v2 = services.questionnaire_new_version(questionnaire=questionnaire, user=manager)

    services.questionnaire_publish(version=v2, user=manager)

    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v1.status == VersionStatus.RETIRED
    assert v2.status == VersionStatus.PUBLISHED
    assert v2.published_by == manager and v2.published_at is not None
    assert published(questionnaire) == v2

    with pytest.raises(ValidationError):  # not a draft any more
        services.questionnaire_publish(version=v2, user=manager)


def test_database_allows_only_one_published_version(manager):
    questionnaire = handbook()
    v2 = services.questionnaire_new_version(questionnaire=questionnaire, user=manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        QuestionnaireVersion.objects.filter(pk=v2.pk).update(status=VersionStatus.PUBLISHED)
    assert questionnaire.versions.filter(status=VersionStatus.PUBLISHED).count() == 1


def test_an_incomplete_draft_is_not_published(manager):
    questionnaire = Questionnaire.objects.create(code="empty", name="空问卷")
    draft = services.questionnaire_new_version(questionnaire=questionnaire, user=manager)
    with pytest.raises(ValidationError):
        services.questionnaire_publish(version=draft, user=manager)
    Question.objects.create(version=draft, code="overall", text="满意吗", kind="scale5")
    with pytest.raises(ValidationError) as exc:
        services.questionnaire_publish(version=draft, user=manager)
    assert "overall" in " ".join(exc.value.messages)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_a_published_version_refuses_edits_in_the_service(manager):
    version = published(handbook())
    with pytest.raises(ValidationError):
        services.questionnaire_version_update(version=version, user=manager, greeting="改了")
    version.refresh_from_db()
    assert version.greeting != "改了"

    draft = services.questionnaire_new_version(questionnaire=handbook(), user=manager)
    services.questionnaire_version_update(version=draft, user=manager, greeting="新的问候")
    draft.refresh_from_db()
    assert draft.greeting == "新的问候"


# --- answers -----------------------------------------------------------------------------------


def test_validate_answers_accepts_a_complete_answer_set():
    version = published(handbook())
    q = {q.code: q for q in version.questions.prefetch_related("choices")}
    pick = {code: q[code].choices.all()[1].pk for code in ["overall", "quality", "attitude"]}
    answers = {
        **pick,
        "promptness": str(q["promptness"].choices.all()[0].pk),
        "needs": [q["needs"].choices.all()[0].pk],
        "suggestions": "  希望送货更快  ",
    }

    cleaned = services.validate_answers(version=version, answers=answers)

    assert cleaned["overall"].label == "满意" and cleaned["overall"].score == 4
    assert cleaned["promptness"].label == "总是能"
    assert cleaned["needs"].label == "完全满足"
    assert cleaned["suggestions"] == "希望送货更快"
    assert "difficulty" not in cleaned


def test_validate_answers_reports_field_errors_by_question_code():
    version = published(handbook())
    q = {q.code: q for q in version.questions.prefetch_related("choices")}
    other_version_choice = Choice.objects.exclude(question__version=version).first()
    overall_choices = [c.pk for c in q["overall"].choices.all()]
    answers = {
        # "overall" missing (required)
        "quality": 999999,  # not one of the choices
        "attitude": overall_choices[:2],  # two picks for a single answer
        "promptness": other_version_choice.pk if other_version_choice else "x",
        "needs": q["needs"].choices.all()[0].pk,
        "suggestions": "长" * 3000,
    }

    with pytest.raises(ValidationError) as exc:
        services.validate_answers(version=version, answers=answers)

    errors = exc.value.message_dict
    assert set(errors) == {"overall", "quality", "attitude", "promptness", "suggestions"}


def test_validate_answers_multiple_choice():
    _, version = make_questionnaire()
    multi = Question.objects.create(
        version=version, code="channels", text="渠道", kind=QuestionKind.MULTIPLE
    )
    a = Choice.objects.create(question=multi, order=1, label="电话")
    b = Choice.objects.create(question=multi, order=2, label="邮件")
    base = {f"s{i}": version.questions.get(code=f"s{i}").choices.first().pk for i in range(3)}

    cleaned = services.validate_answers(version=version, answers={**base, "channels": [b.pk, a.pk]})
    assert [c.label for c in cleaned["channels"]] == ["电话", "邮件"]

    with pytest.raises(ValidationError) as exc:
        services.validate_answers(version=version, answers={**base, "channels": [a.pk, 0]})
    assert set(exc.value.message_dict) == {"channels"}


# --- admin -------------------------------------------------------------------------------------


def version_url(version):
    return reverse("admin:callbacks_questionnaireversion_change", args=[version.pk])


def test_admin_published_version_is_read_only(client, manager):
    client.force_login(manager)
    version = published(handbook())

    page = client.get(version_url(version))
    assert page.status_code == 200
    html = page.content.decode()
    assert "您对我们公司提供的产品/服务整体满意度如何？" in html
    assert 'name="greeting"' not in html  # shown, not editable

    response = client.post(version_url(version), {"greeting": "改了", "closing": "改了"})
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.greeting != "改了"

    question = version.questions.get(code="overall")
    url = reverse("admin:callbacks_question_change", args=[question.pk])
    page = client.get(url)
    assert page.status_code == 200 and "非常满意" in page.content.decode()
    assert client.post(url, {"text": "改了"}).status_code == 403


def test_admin_actions_new_version_then_publish(client, manager):
    client.force_login(manager)
    questionnaire = handbook()
    v1 = published(questionnaire)

    response = client.post(
        reverse("admin:callbacks_questionnaire_changelist"),
        {"action": "new_version", "_selected_action": [questionnaire.pk]},
        follow=True,
    )
    assert response.status_code == 200
    draft = questionnaire.versions.get(status=VersionStatus.DRAFT)

    # The draft is editable in the admin.
    page = client.get(version_url(draft))
    assert page.status_code == 200 and 'name="greeting"' in page.content.decode()

    response = client.post(
        reverse("admin:callbacks_questionnaireversion_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert response.status_code == 200
    v1.refresh_from_db()
    draft.refresh_from_db()
    assert (v1.status, draft.status) == (VersionStatus.RETIRED, VersionStatus.PUBLISHED)


def test_admin_edit_a_draft_question(client, manager):
    client.force_login(manager)
    draft = services.questionnaire_new_version(questionnaire=handbook(), user=manager)
    question = draft.questions.get(code="quality")
    url = reverse("admin:callbacks_question_change", args=[question.pk])
    choices = list(question.choices.all())
    data = {
        "order": question.order,
        "code": question.code,
        "text": "您如何评价我们的产品质量？",
        "kind": question.kind,
        "required": "on",
        "problem_category": "",
        "choices-TOTAL_FORMS": len(choices),
        "choices-INITIAL_FORMS": len(choices),
        "choices-MIN_NUM_FORMS": 0,
        "choices-MAX_NUM_FORMS": 1000,
    }
    for i, c in enumerate(choices):
        data.update(
            {
                f"choices-{i}-id": c.pk,
                f"choices-{i}-question": question.pk,
                f"choices-{i}-order": c.order,
                f"choices-{i}-label": c.label,
                f"choices-{i}-score": c.score,
            }
        )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    question.refresh_from_db()
    assert question.text == "您如何评价我们的产品质量？"
    # The version in use did not change.
    assert published(handbook()).questions.get(code="quality").text != question.text


def _add_questionnaires(manager, start, count, questions):
    for i in range(start, start + count):
        questionnaire, version = make_questionnaire(code=f"q{i}", questions=questions)
        services.questionnaire_publish(version=version, user=manager)
        services.questionnaire_new_version(questionnaire=questionnaire, user=manager)


def test_admin_pages_use_a_constant_number_of_queries(client, manager):
    client.force_login(manager)

    def page_queries():
        version = QuestionnaireVersion.objects.filter(status=VersionStatus.DRAFT).last()
        question = version.questions.first()
        urls = [
            reverse("admin:callbacks_questionnaire_changelist"),
            reverse("admin:callbacks_questionnaire_change", args=[version.questionnaire_id]),
            reverse("admin:callbacks_questionnaireversion_changelist"),
            version_url(version),
            version_url(version.questionnaire.versions.get(status=VersionStatus.PUBLISHED)),
            reverse("admin:callbacks_question_changelist"),
            reverse("admin:callbacks_question_change", args=[question.pk]),
            reverse("admin:callbacks_question_add"),
        ]
        counts = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200, url
            counts.append(len(ctx))
        return counts

    _add_questionnaires(manager, 0, 1, questions=1)
    page_queries()  # warm the content-type cache
    few = page_queries()
    # More questionnaires, more versions per questionnaire, more questions per version.
    _add_questionnaires(manager, 1, 5, questions=8)
    for i in range(1, 6):
        q = Questionnaire.objects.get(code=f"q{i}")
        services.questionnaire_publish(version=q.versions.get(status="draft"), user=manager)
        services.questionnaire_new_version(questionnaire=q, user=manager)
    many = page_queries()
    assert many == few
