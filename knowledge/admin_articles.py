"""The admin for knowledge-base articles: searched with knowledge.search, published and
archived through actions.

Moved out of knowledge.admin, which imports this module (registering the admin in its
original order) and re-exports its names.
"""

from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .admin import ARTICLE_COLOURS, badge
from .history import ReadableHistoryMixin
from .models import Article, ArticleStatus
from .search import article_search


@admin.register(Article)
class ArticleAdmin(ReadableHistoryMixin, SimpleHistoryAdmin):
    list_display = ["title", "category", "status_display", "author", "updated_at",
                    "helpful_count", "not_helpful_count"]  # fmt: skip
    list_filter = ["status", "category"]
    list_select_related = ["author"]
    # The search box uses knowledge.search (jieba tokens, ranked); see get_search_results.
    search_fields = ["title"]
    search_help_text = gettext_lazy(
        "Chinese words are matched even without spaces; best matches first."
    )
    fieldsets = [
        (None, {"fields": ["title", "category", "status", "tags", "summary", "body"]}),
        (gettext_lazy("Preview"), {"fields": ["body_preview"]}),
        (
            gettext_lazy("About"),
            {
                "fields": [
                    "source_cases_display",
                    "author",
                    "created_at",
                    "updated_at",
                    "published_at",
                    "helpful_count",
                    "not_helpful_count",
                ]
            },
        ),
    ]
    actions = ["publish", "archive"]

    def get_readonly_fields(self, request, obj=None):
        fields = ["body_preview", "source_cases_display", "author", "created_at", "updated_at",
                  "published_at", "helpful_count", "not_helpful_count"]  # fmt: skip
        if not request.user.has_perm("knowledge.publish_article"):
            fields.append("status")
        return fields

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        results = article_search(queryset, search_term)  # ordered best match first
        if ORDER_VAR in request.GET:
            # A column the user clicked wins over relevance.
            results = results.order_by(*queryset.query.order_by)
        return results, False

    def save_model(self, request, obj, form, change):
        services.article_save(article=obj, user=request.user)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_display(self, obj):
        return badge(obj.get_status_display(), ARTICLE_COLOURS.get(obj.status, "#6b7280"))

    @admin.display(description=gettext_lazy("rendered body"))
    def body_preview(self, obj):
        if not obj.body:
            return "—"
        # render_markdown sanitises with nh3: safe to mark as such.
        return mark_safe(f'<div class="sd-markdown">{obj.body_html}</div>')

    @admin.display(description=gettext_lazy("source cases"))
    def source_cases_display(self, obj):
        # Cases link to articles from the complaints side (Case.articles); absent until then.
        related = getattr(obj, "source_cases", None)
        if obj.pk is None or related is None:
            return "—"
        cases = list(related.all()[:50])
        if not cases:
            return "—"
        return format_html_join(
            "、",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:complaints_case_change", args=[c.pk]), getattr(c, "number", c))
                for c in cases
            ),
        )

    def _set_status(self, request, queryset, status):
        count = 0
        for article in queryset:
            try:
                services.article_update(article=article, user=request.user, status=status)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])),
                                  messages.ERROR)  # fmt: skip
                return
            count += 1
        self.message_user(request, _("%(count)s articles updated.") % {"count": count})

    @admin.action(description=gettext_lazy("Publish selected articles"), permissions=["publish"])
    def publish(self, request, queryset):
        self._set_status(request, queryset, ArticleStatus.PUBLISHED)

    @admin.action(description=gettext_lazy("Archive selected articles"), permissions=["publish"])
    def archive(self, request, queryset):
        self._set_status(request, queryset, ArticleStatus.ARCHIVED)

    def has_publish_permission(self, request):
        return request.user.has_perm("knowledge.publish_article")
