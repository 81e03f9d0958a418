"""Recording answers (survey links and calls alike): a low overall score goes to the case's
satisfaction hook, reported problems become cases."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import services as case_services
from complaints.models import (
    CaseType,
    Category,
    Channel,
    Urgency,
)

from .models import (
    Answer,
    Choice,
    Grade,
    ProblemCategory,
    ProblemReport,
    Response,
)
from .questionnaires import validate_answers

# ---------------------------------------------------------------------------------------------
# Recording answers (survey links and calls alike)

PROBLEM_CASE_CATEGORY = {
    ProblemCategory.PRODUCT_QUALITY: Category.PRODUCT,
    ProblemCategory.SERVICE_ATTITUDE: Category.SERVICE,
    ProblemCategory.TECHNICAL_SUPPORT: Category.TECHNICAL,
    ProblemCategory.DELIVERY: Category.LOGISTICS,
}
GRADE_URGENCY = {
    Grade.MAJOR: Urgency.HIGH,
    Grade.IMPORTANT: Urgency.MEDIUM,
    Grade.GENERAL: Urgency.LOW,
}
URGENCY_GRADE = {v: k for k, v in GRADE_URGENCY.items()}

# What customers write in a "did you have a problem?" box when they had none.
NO_PROBLEM_ANSWERS = {
    "无", "没有", "没", "否", "无问题", "没有问题", "没问题", "暂无", "暂时没有", "还没有",
    "没有出现", "没出现过", "没有出现过", "一切正常", "正常", "无。", "没有。",
    "no", "none", "n/a", "na", "-", "/", "—",
}  # fmt: skip


def _is_problem_text(text):
    return text.strip().lower().rstrip("。.!！") not in NO_PROBLEM_ANSWERS


def _clean_problems(problems):
    """Problems an agent recorded on a call: [{category, grade, description}]."""
    cleaned, errors = [], []
    for i, p in enumerate(problems or ()):
        category, grade = p.get("category"), p.get("grade")
        description = (p.get("description") or "").strip()
        if category not in ProblemCategory.values:
            errors.append(_("Problem %(n)s: choose the problem category.") % {"n": i + 1})
        if grade not in Grade.values:
            errors.append(_("Problem %(n)s: choose the grade.") % {"n": i + 1})
        if not description:
            errors.append(_("Problem %(n)s: describe the problem.") % {"n": i + 1})
        cleaned.append({"category": category, "grade": grade, "description": description})
    if errors:
        raise ValidationError({"problems": errors})
    return cleaned


def _open_problem_case(*, problem, customer, case, user, now):
    # The customer's own words make the subject: intake's de-duplication compares subjects,
    # so two different problems from one answer stay two cases, while the same problem
    # already open for this customer is added to that case.
    text = " ".join(problem["description"].split())
    subject = _("Follow-up, %(category)s: %(text)s") % {
        "category": ProblemCategory(problem["category"]).label,
        "text": text if len(text) <= 60 else text[:59] + "…",
    }
    result = case_services.case_intake(
        channel=Channel.CALLBACK,
        customer={
            "name": customer.name,
            "phone": customer.phone,
            "email": customer.email,
            "member_no": customer.member_no,
        },
        subject=subject,
        description=problem["description"],
        customer_words=problem["description"],
        type=CaseType.COMPLAINT,
        category=PROBLEM_CASE_CATEGORY[problem["category"]],
        product=case.product if case else "",
        order_no=case.order_no if case else "",
        prior_history=_("Raised in the follow-up of case %(number)s.") % {"number": case.number}
        if case
        else "",
        urgency=GRADE_URGENCY[problem["grade"]] if problem["grade"] else None,
        user=user,
        now=now,
    )
    return result.case


def response_record(
    *,
    version,
    customer,
    answers,
    method,
    case=None,
    survey=None,
    followup=None,
    problems=(),
    suggestions="",
    agent=None,
    recorded_by=None,
    now=None,
):
    """Store a customer's answers to `version` and act on them.

    `answers` is {question code: value} (see validate_answers); `problems` are the ones an
    agent classified on a call ([{category, grade, description}]). A non-empty answer to a
    question with a problem category is a problem too, graded by the intake's urgency rules.
    Each problem becomes a case (through complaints' intake, channel "follow-up call"); an
    overall score goes to the case's satisfaction hook (below 4: reopened, manager, escalated).
    Raises ValidationError keyed by question code (or "problems"); nothing is saved then.
    """
    now = now or timezone.now()
    cleaned = validate_answers(version=version, answers=answers)
    extra_problems = _clean_problems(problems)
    questions = {q.code: q for q in version.questions.all()}
    overall = None
    found = []
    for code, value in cleaned.items():
        q = questions[code]
        if q.is_overall_satisfaction and isinstance(value, Choice):
            overall = value.score
        if q.problem_category and isinstance(value, str) and _is_problem_text(value):
            found.append({"category": q.problem_category, "grade": None, "description": value})
    found.extend(extra_problems)
    with transaction.atomic():
        response = Response.objects.create(
            version=version, customer=customer, case=case, survey=survey, followup=followup,
            method=method, answered_at=now, overall_score=overall, has_problem=bool(found),
            suggestions=(suggestions or "").strip(),
            department=case.department if case else None,
            agent=agent or (case.assignee if case else None),
            case_channel=case.channel if case else "", recorded_by=recorded_by,
        )  # fmt: skip
        rows = []
        for code, value in cleaned.items():
            q = questions[code]
            if isinstance(value, str):
                rows.append(Answer(response=response, question=q, text=value))
            else:
                for choice in value if isinstance(value, list) else [value]:
                    rows.append(Answer(response=response, question=q, choice=choice))
        Answer.objects.bulk_create(rows)
        for problem in found:
            new_case = _open_problem_case(
                problem=problem, customer=customer, case=case, user=recorded_by, now=now
            )
            ProblemReport.objects.create(
                response=response,
                category=problem["category"],
                grade=problem["grade"] or URGENCY_GRADE.get(new_case.urgency, Grade.GENERAL),
                description=problem["description"],
                case=new_case if not ProblemReport.objects.filter(case=new_case).exists() else None,
            )
        if case is not None and overall is not None:
            words = " ".join(v for v in cleaned.values() if isinstance(v, str))
            case_services.case_satisfaction_result(
                case=case, score=overall, text=words[:1000], source=method
            )
    return response
