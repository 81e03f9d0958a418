"""Serializers of the knowledge API: articles (list with search relevance, detail with the body
rendered as safe HTML) and published plan revisions with their stages and resources."""

from rest_framework import serializers

from .models import Article, Plan, PlanResource, PlanRevision, PlanStage


class ArticleSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()
    tags = serializers.ListField(source="tag_list", child=serializers.CharField(), read_only=True)
    relevance = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = ["id", "title", "summary", "category", "tags", "status", "author",
                  "updated_at", "published_at", "helpful_count", "not_helpful_count",
                  "relevance"]  # fmt: skip

    def get_relevance(self, obj) -> float | None:
        value = getattr(obj, "relevance", None)
        return None if value is None else float(value)


class ArticleDetailSerializer(ArticleSerializer):
    body_html = serializers.CharField(read_only=True)
    source_cases = serializers.SerializerMethodField()

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body", "body_html", "created_at",
                  "source_cases"]  # fmt: skip

    def get_source_cases(self, obj) -> list[str]:
        # The link is declared on the case side (Case.articles); absent until that app adds it.
        related = getattr(obj, "source_cases", None)
        if related is None:
            return []
        return [str(getattr(case, "number", case.pk)) for case in related.all()]


class ArticleFeedbackSerializer(serializers.Serializer):
    helpful = serializers.BooleanField()


class PlanSerializer(serializers.ModelSerializer):
    departments = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Plan
        fields = ["code", "name", "scope", "case_types", "categories", "situations",
                  "is_default", "departments", "next_review_on"]  # fmt: skip


class PlanStageSerializer(serializers.ModelSerializer):
    time_limit = serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=False)

    class Meta:
        model = PlanStage
        fields = ["order", "code", "name", "time_limit", "unit", "starts", "responsible_role",
                  "description"]  # fmt: skip


class PlanResourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanResource
        fields = ["order", "kind", "name", "quantity", "location", "notes"]


class PlanRevisionSerializer(serializers.ModelSerializer):
    plan = PlanSerializer(read_only=True)
    revision = serializers.IntegerField(source="number", read_only=True)
    stages = PlanStageSerializer(many=True, read_only=True)
    resources = PlanResourceSerializer(many=True, read_only=True)

    class Meta:
        model = PlanRevision
        fields = ["id", "plan", "revision", "state", "published_at", "objectives",
                  "first_response_hours", "satisfaction_target_pct", "urgency_high_hours",
                  "urgency_medium_working_days", "urgency_low_hours", "reporting_path",
                  "risk_triggers", "change_summary", "stages", "resources"]  # fmt: skip
