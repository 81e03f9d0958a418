"""The satisfaction survey for channel apps (WeChat, the shop's app), under /api/v1/:

    GET  /api/v1/surveys/{token}/    the questionnaire to show and the case it is about
    POST /api/v1/surveys/{token}/    {"answers": {question code: value}} → 201

The token is the one in the survey link (/s/{token}/): it is the credential, so no login is
needed. Values: a choice id for rating and single-choice questions, a list of choice ids for
multiple choice, a string for open text; questions not answered may be left out. Answers are
recorded once, exactly as through the survey page (services.survey_submit): a low overall
score reopens the case for a manager, a problem the customer describes becomes a new case.

Refusals: 400 {"answers": {question code: [messages]}} (nothing is saved), 404 when the token
is forged, tampered with or unknown, 409 {"detail", "code": "answered"} when the survey was
already answered, 410 {"detail", "code": "expired"} when it can no longer be answered, 429
when too many answers came from the client's address (settings.SURVEY_RATE_LIMIT, one
allowance shared with the page; reading is not counted, and neither is a channel system that
authenticates with its token, since it relays many customers from one address).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from complaints.models import Case
from complaints.serializers import django_error_detail

from . import services
from .models import Choice, Question, QuestionnaireVersion, Survey
from .models import Response as SurveyResponse
from .views import survey_rate_check

# --- serializers ---------------------------------------------------------------------------


class ChoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ["id", "label", "translations", "score"]
        read_only_fields = fields


class QuestionSerializer(serializers.ModelSerializer):
    choices = ChoiceSerializer(
        many=True, read_only=True, help_text=gettext_lazy("Empty for open-text questions.")
    )

    class Meta:
        model = Question
        fields = ["code", "text", "translations", "kind", "required", "choices"]
        read_only_fields = fields


class QuestionnaireSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="questionnaire.name", read_only=True)
    version = serializers.IntegerField(source="number", read_only=True)
    questions = QuestionSerializer(many=True, read_only=True)
    closing = serializers.CharField(source="closing_text", read_only=True)

    class Meta:
        model = QuestionnaireVersion
        fields = ["name", "version", "greeting", "greeting_translations", "closing",
                  "closing_translations", "questions"]  # fmt: skip
        read_only_fields = fields


class SurveyCaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = ["number", "subject"]
        read_only_fields = fields


class SurveySerializer(serializers.ModelSerializer):
    case = SurveyCaseSerializer(read_only=True)
    questionnaire = QuestionnaireSerializer(source="version", read_only=True)
    language = serializers.CharField(
        source="customer.language", read_only=True,
        help_text=gettext_lazy("The customer's language: show the wording's translation in it."),
    )  # fmt: skip

    class Meta:
        model = Survey
        fields = ["status", "expires_at", "language", "case", "questionnaire"]
        read_only_fields = fields


class SurveyAnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.JSONField(),
        help_text=gettext_lazy(
            "{question code: value}: a choice id for rating and single-choice questions, a "
            "list of choice ids for multiple choice, text for open questions."
        ),
    )


class SurveyResultSerializer(serializers.ModelSerializer):
    cases_opened = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "Numbers of the cases opened for the problems the customer reported."
        )
    )

    class Meta:
        model = SurveyResponse
        fields = ["answered_at", "overall_score", "has_problem", "cases_opened"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_cases_opened(self, response):
        return [p.case.number for p in response.problems.all() if p.case_id]


class SurveyRefusalSerializer(serializers.Serializer):
    """For the schema: a 409 or 410 answer."""

    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["answered", "expired"])


# --- refusals and the rate limit -----------------------------------------------------------


class SurveyAnswered(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This survey has already been answered. Thank you!")
    default_code = "answered"


class SurveyExpired(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = gettext_lazy("This survey has expired and can no longer be answered.")
    default_code = "expired"


def _refusal(reason):
    exc = SurveyAnswered() if reason == "answered" else SurveyExpired()
    # Set after construction: APIException would turn every value into a string.
    exc.detail = {"detail": exc.detail, "code": exc.default_code}
    return exc


class SurveyAnswerThrottle(BaseThrottle):
    """Answers from one client address: settings.SURVEY_RATE_LIMIT, shared with the page."""

    retry_after = None

    def allow_request(self, request, view):
        if request.method != "POST" or request.user.is_authenticated:
            return True
        self.retry_after = survey_rate_check(request)
        return not self.retry_after

    def wait(self):
        return self.retry_after


# --- the view ------------------------------------------------------------------------------

REFUSALS = {
    404: OpenApiResponse(
        OpenApiTypes.OBJECT, description="{detail}: forged, tampered with or unknown token."
    ),
    409: OpenApiResponse(SurveyRefusalSerializer, description="Already answered."),
    410: OpenApiResponse(SurveyRefusalSerializer, description="Expired: no longer open."),
}


class SurveyView(APIView):
    permission_classes = [permissions.AllowAny]
    throttle_classes = [SurveyAnswerThrottle]

    def open_survey(self, token):
        survey = services.survey_find(token)
        if survey is None:
            raise NotFound(_("There is no survey for this link."))
        try:
            services.survey_check_open(survey)
        except services.SurveyUnavailable as exc:
            raise _refusal(exc.reason) from exc
        return survey

    @extend_schema(
        summary="The satisfaction survey of a link",
        description="The questionnaire to show (greeting, ordered questions with their "
        "choices, closing) and the case it is about. Answerable surveys only.",
        responses={200: SurveySerializer, **REFUSALS},
    )
    def get(self, request, token):
        survey = self.open_survey(token)
        prefetch_related_objects(
            [survey.version],
            Prefetch("questions", queryset=Question.objects.prefetch_related("choices")),
        )
        return Response(SurveySerializer(survey).data)

    @extend_schema(
        summary="Answer the satisfaction survey of a link (once)",
        request=SurveyAnswersSerializer,
        responses={
            201: SurveyResultSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description='{"answers": {question code: [messages]}}; nothing is saved.',
            ),
            **REFUSALS,
            429: OpenApiResponse(
                OpenApiTypes.OBJECT, description="{detail}: too many answers from this address."
            ),
        },
    )
    def post(self, request, token):
        survey = self.open_survey(token)
        serializer = SurveyAnswersSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            response = services.survey_submit(
                survey=survey, answers=serializer.validated_data["answers"]
            )
        except services.SurveyUnavailable as exc:  # answered or expired a moment ago
            raise _refusal(exc.reason) from exc
        except DjangoValidationError as exc:
            raise ValidationError({"answers": django_error_detail(exc)}) from exc
        prefetch_related_objects([response], Prefetch("problems__case"))
        return Response(SurveyResultSerializer(response).data, status=status.HTTP_201_CREATED)
