"""GET /api/v1/metrics/satisfaction/?from=YYYY-MM-DD&to=YYYY-MM-DD&group_by=…

The handbook's satisfaction figures for a period (callbacks.stats, callbacks.metrics): the
totals, the previous period of equal length, the improvement between them, one entry per
group and the opinion concentration.

Parameters: `from` (default: the first of this month) and `to` (default: today), both
included, local dates (Asia/Shanghai unless TIME_ZONE says otherwise), at most three years
apart; `group_by` = period (by month, the default) | week (ISO week) | day | department |
agent | channel (the case's intake channel) | method (how the follow-up was made).
Bad values answer 400 {field: [messages]}.

Numbers: counts are integers; scores and shares are decimal *strings* with fixed places, as
DRF writes decimals — score "4.10" (2 places, 1–5), rate and problem_incidence "0.7000"
(shares 0..1, 4 places: ×100 for a percentage), target "0.90". A figure with nothing to
measure (no answers, nobody surveyed) is null, never zero.

Group keys: the month "2026-11", ISO week "2026-W45", day "2026-11-02", the department's
code, the agent's username, the channel or method code; null for answers without one (e.g.
a periodic follow-up is about no case, so it has no department or channel). Empty months,
weeks or days are listed too, with null figures.

Who may call it: staff with the "view satisfaction summary" permission
(callbacks.view_satisfactionsummary; every role has it), by token or admin session.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from complaints.serializers import ErrorSerializer

from . import stats

PERMISSION = "callbacks.view_satisfactionsummary"


class CanSeeSatisfactionMetrics(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm(PERMISSION))


def _score():
    return serializers.DecimalField(
        max_digits=3, decimal_places=2, allow_null=True, help_text=_("1.00–5.00; null: no answers.")
    )


def _share(help_text):
    return serializers.DecimalField(
        max_digits=5, decimal_places=4, allow_null=True, help_text=help_text
    )


class SatisfactionFiguresSerializer(serializers.Serializer):
    responses = serializers.IntegerField(help_text=_("Questionnaires answered."))
    answers = serializers.IntegerField(help_text=_("Questionnaires with an overall score."))
    score = _score()
    rate = _share(_("Share of answers scoring 4 or 5 (0..1); null: no answers."))
    meets_target = serializers.BooleanField(
        allow_null=True, help_text=_("rate ≥ target; null: no answers.")
    )
    problem_incidence = _share(
        _("Customers who reported a problem ÷ customers surveyed (0..1); null: nobody surveyed.")
    )
    customers_surveyed = serializers.IntegerField(help_text=_("Distinct customers."))
    customers_with_problem = serializers.IntegerField(help_text=_("Distinct customers."))


class SatisfactionPreviousSerializer(SatisfactionFiguresSerializer):
    def get_fields(self):
        # "from" is a Python keyword: added here rather than declared.
        return {
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            **super().get_fields(),
        }


class SatisfactionGroupSerializer(SatisfactionFiguresSerializer):
    def get_fields(self):
        return {
            "key": serializers.CharField(
                allow_null=True,
                help_text=_(
                    "Month, ISO week, day, department code, username, channel or method code; "
                    "null for answers without one."
                ),
            ),
            "label": serializers.CharField(help_text=_("The key for people, in their language.")),
            **super().get_fields(),
        }


class SatisfactionOpinionSerializer(serializers.Serializer):
    category = serializers.CharField(
        help_text=_(
            "A problem category (product_quality …) or “<question code>:<option>” for an "
            "option picked in a multiple-choice question."
        )
    )
    label = serializers.CharField()
    count = serializers.IntegerField(help_text=_("Mentions."))
    share = _share(_("Mentions ÷ all mentions (0..1)."))


class SatisfactionScoreCountSerializer(serializers.Serializer):
    score = serializers.IntegerField(help_text=_("Overall score, 5 (very satisfied) to 1."))
    count = serializers.IntegerField()


class SatisfactionMetricsSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=stats.GROUP_BY)
    target = serializers.DecimalField(
        max_digits=3, decimal_places=2, help_text=_("The satisfaction-rate target (0..1).")
    )
    totals = SatisfactionFiguresSerializer()
    previous = SatisfactionPreviousSerializer(
        help_text=_("The period of equal length just before `from`.")
    )
    improvement = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        allow_null=True,
        help_text=_("Score now − score in the previous period; null if either has no answers."),
    )
    incidence_reduction = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        help_text=_("Problem incidence in the previous period − now (positive: fewer problems)."),
    )
    groups = SatisfactionGroupSerializer(many=True)
    opinions = SatisfactionOpinionSerializer(many=True, help_text=_("Most mentioned first."))
    distribution = SatisfactionScoreCountSerializer(many=True)

    def get_fields(self):
        return {
            "from": serializers.DateField(),
            "to": serializers.DateField(help_text=_("Included.")),
            **super().get_fields(),
        }


class SatisfactionMetricsView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanSeeSatisfactionMetrics]

    @extend_schema(
        summary="Satisfaction metrics for a period",
        description=__doc__,
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description=_("First day (default: the first of this month)."),
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description=_("Last day, included (default: today).")
            ),
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=stats.GROUP_BY, default="period"),
        ],
        responses={
            200: SatisfactionMetricsSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="{field: [messages]}"),
            401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
            403: OpenApiResponse(ErrorSerializer, description="No permission."),
        },
    )
    def get(self, request):
        form = stats.PeriodForm(request.query_params)
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        data = form.cleaned_data
        summary = stats.satisfaction_summary(
            date_from=data["from"], date_to=data["to"], group_by=data["group_by"]
        )
        return Response(SatisfactionMetricsSerializer(summary).data)
