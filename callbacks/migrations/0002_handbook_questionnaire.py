"""Ship the handbook's example questionnaire (客户服务回访工作细则 §三.3) as version 1, published.

The wording is copied here rather than imported from callbacks.models, so this migration keeps
producing the same data whatever the models module says later.
"""

from django.db import migrations

CODE = "satisfaction-callback"

SATISFACTION = [("非常满意", 5), ("满意", 4), ("一般", 3), ("不满意", 2), ("非常不满意", 1)]
QUALITY = [("很好", 5), ("较好", 4), ("一般", 3), ("较差", 2), ("很差", 1)]
PROMPTNESS = [("总是能", 5), ("经常能", 4), ("有时能", 3), ("很少能", 2), ("不能", 1)]
# Four options in the handbook; scored 5/4/3/1 to share the 1-5 range (see SCALE_SETS).
NEEDS = [("完全满足", 5), ("基本满足", 4), ("部分满足", 3), ("不满足", 1)]

GREETING = (
    "尊敬的客户，您好！感谢您一直以来对我们的信任与支持。"
    "为了解您对我们产品和服务的满意度、收集您的意见和建议，以便我们不断改进服务质量，"
    "特邀请您花几分钟时间完成本次回访。"
)
CLOSING = (
    "再次感谢您的支持与配合！如您有任何疑问或建议，欢迎随时与我们联系：客服热线 400-xxx-xxxx。"
)

# (code, text, kind, required, is_overall, problem_category, scale)
QUESTIONS = [
    ("overall", "您对我们公司提供的产品/服务整体满意度如何？", "scale5", True, True, "", SATISFACTION),
    ("quality", "您认为我们的产品在质量方面表现如何？", "scale5", True, False, "", QUALITY),
    (
        "quality_problem",
        "产品是否出现过质量问题？如有，请简要描述。",
        "text",
        False,
        False,
        "product_quality",
        None,
    ),
    ("attitude", "您对我们客服人员的服务态度是否满意？", "scale5", True, False, "", SATISFACTION),
    ("promptness", "客服人员是否能够及时、有效地解决您的问题？", "scale5", True, False, "", PROMPTNESS),
    ("needs", "产品/服务的功能是否满足您的需求？", "scale5", True, False, "", NEEDS),
    ("difficulty", "在使用产品/服务过程中，您遇到的最大困难是什么？", "text", False, False, "", None),
    (
        "suggestions",
        "对于我们公司的产品/服务，您有什么其他的意见或建议吗？",
        "text",
        False,
        False,
        "",
        None,
    ),
    ("improvements", "您希望我们在哪些方面进行改进？", "text", False, False, "", None),
]


def ship(apps, schema_editor):
    Questionnaire = apps.get_model("callbacks", "Questionnaire")
    QuestionnaireVersion = apps.get_model("callbacks", "QuestionnaireVersion")
    Question = apps.get_model("callbacks", "Question")
    Choice = apps.get_model("callbacks", "Choice")
    from django.utils import timezone

    questionnaire, created = Questionnaire.objects.get_or_create(
        code=CODE, defaults={"name": "客户满意度回访问卷"}
    )
    if not created:
        return
    version = QuestionnaireVersion.objects.create(
        questionnaire=questionnaire,
        number=1,
        greeting=GREETING,
        closing=CLOSING,
        status="published",
        published_at=timezone.now(),
    )
    for order, (code, text, kind, required, overall, category, scale) in enumerate(
        QUESTIONS, start=1
    ):
        question = Question.objects.create(
            version=version,
            order=order * 10,
            code=code,
            text=text,
            kind=kind,
            required=required,
            is_overall_satisfaction=overall,
            problem_category=category,
        )
        for position, (label, score) in enumerate(scale or [], start=1):
            Choice.objects.create(question=question, order=position, label=label, score=score)


def unship(apps, schema_editor):
    Questionnaire = apps.get_model("callbacks", "Questionnaire")
    QuestionnaireVersion = apps.get_model("callbacks", "QuestionnaireVersion")
    QuestionnaireVersion.objects.filter(questionnaire__code=CODE).delete()
    Questionnaire.objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("callbacks", "0001_questionnaires")]

    operations = [migrations.RunPython(ship, unship)]
