"""The knowledge base: articles (FAQ, troubleshooting steps, standard replies, policies) and
the staff's feedback on them.

Moved out of knowledge.models, which imports this module (so Django registers the models
in their original order) and re-exports its names.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from . import text
from .models import NormalisedTextMixin


class ArticleCategory(models.TextChoices):
    FAQ = "faq", _("FAQ")
    TROUBLESHOOTING = "troubleshooting", _("Troubleshooting steps")
    STANDARD_REPLY = "standard_reply", _("Standard reply")
    POLICY = "policy", _("Policy")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=ArticleStatus.PUBLISHED)

    def visible_to(self, user):
        """Everything for users who may publish; otherwise published articles only."""
        if user.has_perm("knowledge.publish_article"):
            return self
        return self.published()


def render_markdown(source):
    """Markdown to HTML that is safe to show: nh3 removes scripts, event handlers and any
    tag or attribute outside its allow-list."""
    import markdown
    import nh3

    html = markdown.markdown(source or "", extensions=["extra", "sane_lists"])
    return nh3.clean(html, link_rel="noopener noreferrer")


class Article(NormalisedTextMixin, models.Model):
    """A knowledge-base article: a common problem and its solution, a troubleshooting guide,
    a standard reply (标准话术) or a policy. The cases it came from are linked from the case
    side (`Case.articles`, related name `source_cases`)."""

    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("body"), help_text=_("Markdown."))
    category = models.CharField(_("category"), max_length=20, choices=ArticleCategory.choices)
    tags = models.CharField(
        _("tags"), max_length=300, blank=True, help_text=_("Separated by commas.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("author"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0, editable=False)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0, editable=False)
    # jieba tokens, space-separated: what both databases' full-text search indexes (a GIN
    # index on PostgreSQL, an FTS5 table kept by triggers on SQLite; migration 0002).
    search_text = models.TextField(_("search text"), blank=True, editable=False)

    history = HistoricalRecords(
        excluded_fields=["search_text", "helpful_count", "not_helpful_count", "updated_at"]
    )
    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["status", "-updated_at"], name="article_status_idx")]
        permissions = [
            ("publish_article", _("Can publish and archive articles and see unpublished ones"))
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # A derived column, like a slug: whichever way an article is saved, its search
        # tokens follow its text.
        self.search_text = self.build_search_text()
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def build_search_text(self):
        # The title three times: a word in the title weighs more than one in the body.
        return text.search_text(
            self.title, self.title, self.title, self.tags.replace(",", " "), self.summary, self.body
        )

    @property
    def tag_list(self):
        return [t.strip() for t in self.tags.replace("，", ",").split(",") if t.strip()]

    @property
    def body_html(self):
        return render_markdown(self.body)


class ArticleFeedback(models.Model):
    """One staff member's "was this helpful?" answer for an article; the article keeps the
    counts."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("article")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff member"),
    )
    helpful = models.BooleanField(_("helpful"))
    created_at = models.DateTimeField(_("answered at"), auto_now=True)

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], name="articlefeedback_once")
        ]

    def __str__(self):
        return f"{self.article}: {'+' if self.helpful else '-'}"
