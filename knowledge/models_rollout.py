"""After a revision is published (000: training and drills after each update): who of the
affected departments has acknowledged it (已阅读并理解), and the drills (演练) held on it.
Imported by knowledge.models, so these are models of the knowledge app."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PlanAcknowledgement(models.Model):
    """One staff member has read and understood one published revision. Written once."""

    revision = models.ForeignKey(
        "knowledge.PlanRevision",
        on_delete=models.PROTECT,
        related_name="acknowledgements",
        verbose_name=_("revision"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff member"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), default=timezone.now)

    class Meta:
        verbose_name = _("plan acknowledgement")
        verbose_name_plural = _("plan acknowledgements")
        ordering = ["revision", "acknowledged_at"]
        constraints = [models.UniqueConstraint(fields=["revision", "user"], name="planack_once")]

    def __str__(self):
        return f"{self.revision} · {self.user}"


class PlanDrill(models.Model):
    """A drill or training session held on a revision: when, who took part, what was found."""

    revision = models.ForeignKey(
        "knowledge.PlanRevision",
        on_delete=models.PROTECT,
        related_name="drills",
        verbose_name=_("revision"),
    )
    held_on = models.DateField(_("held on"))
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("participants")
    )
    findings = models.TextField(_("findings"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        editable=False,
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("plan drill")
        verbose_name_plural = _("plan drills")
        ordering = ["-held_on", "-pk"]

    def __str__(self):
        return f"{self.revision} · {self.held_on:%Y-%m-%d}"
