"""REST API of the knowledge base and the plans in force, included under /api/v1/:

    GET  /api/v1/knowledge/articles/?search=无法导出     articles, best match first
    GET  /api/v1/knowledge/articles/{id}/               one article, body as Markdown and HTML
    POST /api/v1/knowledge/articles/{id}/feedback/      {"helpful": true|false}, once per user
    GET  /api/v1/plans/                                 published plan revisions with stages

Articles: `search=` cuts the query into Chinese words (jieba) and ranks by relevance (each
result carries `relevance`); without it, newest first. `category=` filters. Staff see
published articles; managers (`knowledge.publish_article`) also drafts and archived ones and
may filter by `status=`.

Plans: every revision in force, with the plan's scope, targets, ordered stages (time limit,
unit, when the clock starts, responsible role) and resources. `case_type=` and/or
`category=` answer with the one revision that governs such a case.
"""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .models import (
    CASE_TYPE_CHOICES,
    CATEGORY_CHOICES,
    Article,
    ArticleCategory,
    ArticleStatus,
    PlanRevision,
    PlanStage,
)
from .search import article_search
from .serializers import (
    ArticleDetailSerializer,
    ArticleFeedbackSerializer,
    ArticleSerializer,
    PlanRevisionSerializer,
)


class HasPerm(permissions.BasePermission):
    """The view's `required_permission` (a model permission such as knowledge.view_article)."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm(view.required_permission))


class KnowledgePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class ArticleList(generics.ListAPIView):
    serializer_class = ArticleSerializer
    permission_classes = [permissions.IsAuthenticated, HasPerm]
    required_permission = "knowledge.view_article"
    pagination_class = KnowledgePagination
    # Search and ordering are ours (relevance), not DRF's SearchFilter/OrderingFilter.
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Words to find (Chinese or not)."),
            OpenApiParameter("category", str, enum=ArticleCategory.values),
            OpenApiParameter(
                "status",
                str,
                enum=ArticleStatus.values,
                description="Managers only; others always get published ones.",
            ),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        queryset = Article.objects.visible_to(self.request.user).select_related("author")
        if params.get("category"):
            queryset = queryset.filter(category=params["category"])
        if params.get("status") and self.request.user.has_perm("knowledge.publish_article"):
            queryset = queryset.filter(status=params["status"])
        search = params.get("search", "").strip()
        if search:
            return article_search(queryset, search)
        return queryset.order_by("-updated_at", "-pk")


class ArticleDetail(generics.RetrieveAPIView):
    serializer_class = ArticleDetailSerializer
    permission_classes = [permissions.IsAuthenticated, HasPerm]
    required_permission = "knowledge.view_article"

    def get_queryset(self):
        return Article.objects.visible_to(self.request.user).select_related("author")


class ArticleFeedback(APIView):
    permission_classes = [permissions.IsAuthenticated, HasPerm]
    required_permission = "knowledge.view_article"

    @extend_schema(request=ArticleFeedbackSerializer, responses=ArticleSerializer)
    def post(self, request, pk):
        article = get_object_or_404(Article.objects.visible_to(request.user), pk=pk)
        data = ArticleFeedbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        article = services.article_record_feedback(
            article=article, user=request.user, helpful=data.validated_data["helpful"]
        )
        return Response(ArticleSerializer(article, context={"request": request}).data)


class PlanList(generics.ListAPIView):
    serializer_class = PlanRevisionSerializer
    permission_classes = [permissions.IsAuthenticated, HasPerm]
    required_permission = "knowledge.view_planrevision"
    pagination_class = KnowledgePagination
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("case_type", str, enum=[c for c, _ in CASE_TYPE_CHOICES]),
            OpenApiParameter("category", str, enum=[c for c, _ in CATEGORY_CHOICES]),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        queryset = (
            PlanRevision.objects.published()
            .select_related("plan")
            .prefetch_related(
                Prefetch("stages", queryset=PlanStage.objects.order_by("order", "pk")),
                "resources",
                "plan__departments",
            )
            .order_by("-plan__is_default", "plan__name")
        )
        params = self.request.query_params
        if params.get("case_type") or params.get("category"):
            governing = services.plan_governing_revision(
                case_type=params.get("case_type", ""), category=params.get("category", "")
            )
            return queryset.filter(pk=governing.pk if governing else None)
        return queryset


urlpatterns = [
    path("knowledge/articles/", ArticleList.as_view(), name="knowledge-article-list"),
    path("knowledge/articles/<int:pk>/", ArticleDetail.as_view(), name="knowledge-article-detail"),
    path(
        "knowledge/articles/<int:pk>/feedback/",
        ArticleFeedback.as_view(),
        name="knowledge-article-feedback",
    ),
    path("plans/", PlanList.as_view(), name="plan-list"),
]
