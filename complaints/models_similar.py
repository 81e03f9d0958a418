"""Similar resolved cases picked and ranked ahead for the cases being worked (相似案例预计算).

Picking candidates through the full-text index is the costly part of the suggestions at a
million cases: the two rarest words of a case may each be held by tens of thousands of cases,
and the index gathers all of them before the scan stops. The every-minute sweep
(complaints.similar_store) picks and ranks them once per working case, before any reader's
visibility, and keeps [primary key, relevance] best first here; the case page and the
suggestions API then show the first of those the reader may see that are still resolved or
closed. A row is a cache of work that can always be redone: missing, or for other text, the
page picks live as it did before."""

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models_case import Case


def text_hash(query):
    """The fingerprint a pick keeps of the text it was made for."""
    return hashlib.md5(query.encode(), usedforsecurity=False).hexdigest()


class CaseSimilar(models.Model):
    case = models.OneToOneField(
        Case,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="similar_precomputed",
        verbose_name=_("case"),
    )
    # text_hash of the text they were picked for (complaints.search.case_query).
    text_hash = models.CharField(_("text fingerprint"), max_length=32)
    # [[case id, relevance], …] best first: every candidate that ranks, for any reader.
    ranking = models.JSONField(_("similar cases, best first"), default=list)
    computed_at = models.DateTimeField(_("picked at"))

    class Meta:
        verbose_name = _("precomputed similar cases")
        verbose_name_plural = _("precomputed similar cases")

    def __str__(self):
        return f"{self.case_id}: {len(self.ranking)}"
