"""Opinion classification (意见集中度 from what customers wrote, 003): the free-text
suggestions of the answers sorted into editable categories by jieba keywords. A suggestion
belongs to every category one of whose keywords it contains (all the keyword's words, as
jieba cuts them); one that matches none is "other"."""

from functools import lru_cache

from django.db import models
from django.utils.translation import gettext_lazy as _

from complaints.models import split_keywords
from knowledge import text

OTHER = "opinion:other"


class OpinionCategory(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    keywords = models.TextField(
        _("keywords"),
        help_text=_(
            "Words that put a suggestion into this category, separated by commas or lines."
        ),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        app_label = "callbacks"
        verbose_name = _("opinion category")
        verbose_name_plural = _("opinion categories")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name

    @property
    def code(self):
        return f"opinion:{self.pk}"


@lru_cache(maxsize=512)
def _keyword_tokens(keyword):
    return frozenset(text.tokenize(keyword)) or frozenset([keyword.lower()])


def classify(suggestion, categories):
    """The codes of the categories `suggestion` falls into ([OTHER] when none, [] if blank)."""
    if not (suggestion or "").strip():
        return []
    tokens = set(text.tokenize(suggestion))
    found = [
        c.code
        for c in categories
        if any(_keyword_tokens(k) <= tokens for k in split_keywords(c.keywords))
    ]
    return found or [OTHER]
