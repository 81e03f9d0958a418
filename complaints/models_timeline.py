"""A case's contacts, timeline entries and evidence files."""

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import filetypes
from .choices import Channel, State
from .fields import BoundedTextField
from .models_case import Case


class CaseContact(models.Model):
    """Each time the customer reached us about a case, through whichever channel."""

    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("case"),
        db_index=False,  # contact_case_idx leads with it: one index fewer to write per contact
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    raw_text = BoundedTextField(_("what the customer said"), blank=True)
    similarity = models.FloatField(_("similarity"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["received_at", "pk"]
        indexes = [models.Index(fields=["case", "received_at"], name="contact_case_idx")]

    def __str__(self):
        return f"{self.get_channel_display()} {self.received_at:%Y-%m-%d %H:%M}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Case received")
    TRANSITION = "transition", _("State change")
    PROGRESS = "progress", _("Progress update")
    NOTE = "note", _("Internal note")
    CONTACT = "contact", _("Customer contact")
    CHANGE = "change", _("Details changed")
    MERGE = "merge", _("Merge")
    ATTACHMENT = "attachment", _("Attachment")
    ESCALATION = "escalation", _("Escalation")
    RETURN_STEP = "return_step", _("Return / exchange step")
    REPLY = "reply", _("Public reply")
    DELIVERY = "delivery", _("Delivery status")


class CaseEvent(models.Model):
    """The case timeline. Append-only: an event is never edited or deleted."""

    case = models.ForeignKey(
        Case,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("case"),
        db_index=False,  # event_case_idx
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices)
    transition = models.CharField(_("transition"), max_length=30, blank=True)
    from_state = models.CharField(_("from"), max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=State.choices, blank=True)
    message = BoundedTextField(_("message"), blank=True)
    customer_notified = models.BooleanField(_("customer told"), default=False)
    data = models.JSONField(_("details"), default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        db_index=False,  # event_author_idx: system entries (no author) are not in it
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["case", "created_at"], name="event_case_idx"),
            models.Index(
                fields=["author"], name="event_author_idx", condition=Q(author__isnull=False)
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("Timeline entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Timeline entries cannot be deleted."))


# --- evidence ----------------------------------------------------------------------------

ATTACHMENT_EXTENSIONS = {
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".bmp",
    ".mp4", ".mov", ".avi", ".webm", ".mp3", ".m4a", ".amr", ".wav",
    ".pdf", ".txt", ".log", ".csv", ".json", ".zip",
    ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx",
}  # fmt: skip


def validate_attachment(file):
    """Field-level checks for evidence files: a size limit and a list of allowed types."""
    limit = settings.ATTACHMENT_MAX_BYTES
    ext = os.path.splitext(file.name or "")[1].lower()
    if ext not in ATTACHMENT_EXTENSIONS:
        raise ValidationError(
            _(
                "File type %(ext)s is not allowed. Allowed: pictures, video, audio, PDF, text, logs, office documents, zip."
            ),
            params={"ext": ext or "?"},
            code="file_type",
        )
    if file.size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s MB); the limit is %(limit)s MB."),
            params={"size": round(file.size / 1048576, 1), "limit": round(limit / 1048576)},
            code="file_size",
        )
    if getattr(file, "_committed", False):
        return  # stored already: it was checked on its way in
    # An upload says its type; a model's FieldFile wraps the upload.
    declared = getattr(file, "content_type", None) or getattr(
        getattr(file, "file", None), "content_type", ""
    )
    declared = (declared or "").split(";")[0].strip().lower()
    if declared in filetypes.ACTIVE_CONTENT_TYPES or not filetypes.content_matches(
        ext, filetypes.read_head(file)
    ):
        raise ValidationError(
            _("The file's content does not match its type (%(ext)s)."),
            params={"ext": ext},
            code="file_content",
        )


def attachment_path(instance, filename):
    ext = os.path.splitext(filename)[1].lower()
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{instance.case.number}-{now:%d%H%M%S%f}{ext}"


class Attachment(models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("case")
    )
    file = models.FileField(
        _("file"), upload_to=attachment_path, validators=[validate_attachment], max_length=255
    )
    original_name = models.CharField(_("file name"), max_length=255, editable=False)
    size = models.PositiveBigIntegerField(_("size"), editable=False, default=0)
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
        editable=False,
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.original_name
