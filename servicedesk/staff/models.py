"""Staff users, departments and in-app notifications: what every app shares about people."""

from django.conf import settings
from django.contrib.auth import models as auth_models
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from . import roles


class Department(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("department e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name"]

    def __str__(self):
        return self.name


class UserQuerySet(models.QuerySet):
    def in_role(self, role):
        return self.filter(groups__name=role, is_active=True)

    def in_department(self, department):
        return self.filter(memberships__department=department, is_active=True)


class UserManager(auth_models.UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A staff member. Customers never log in; they are `complaints.Customer` rows."""

    departments = models.ManyToManyField(
        Department,
        through="Membership",
        related_name="members",
        verbose_name=_("departments"),
        blank=True,
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        full = f"{self.last_name}{self.first_name}".strip()
        return full or self.username

    def has_role(self, *role_names):
        return self.is_superuser or any(r in self.role_names for r in role_names)

    @property
    def role_names(self):
        """The names of the user's groups, read once per instance (a page asks several
        times); changing the groups through this instance clears it (see _groups_changed)."""
        if self._role_names is None:
            self._role_names = frozenset(g.name for g in self.groups.all())
        return self._role_names

    _role_names = None

    @property
    def sees_all_departments(self):
        """Supervisors, managers and administrators work across departments."""
        return self.has_role(roles.SUPERVISOR, roles.MANAGER, roles.ADMINISTRATOR)


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("staff member"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("department"),
    )
    is_lead = models.BooleanField(
        _("department lead"), default=False, help_text=_("Receives the department's escalations.")
    )

    class Meta:
        verbose_name = _("department membership")
        verbose_name_plural = _("department memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="membership_unique")
        ]

    def __str__(self):
        return f"{self.user} @ {self.department}"


UNREAD_FIRST = [
    models.ExpressionWrapper(
        models.Q(read_at__isnull=False), output_field=models.BooleanField()
    ).asc(),
    "-created_at",
    "-pk",
]


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)

    def bell_for(self, user):
        """`user`'s unread notifications, newest first, each annotated with `unread_total`
        (how many there are in all): slice it for the bell's latest few and its count in one
        query on the partial unread index."""
        return (
            self.unread()
            .filter(recipient=user)
            .annotate(unread_total=models.Window(models.Count("pk")))
            .only("pk", "subject", "link", "created_at")
            .order_by("-created_at", "-pk")
        )

    def unread_first(self):
        """Unread before read, newest first within each: the notification list's order."""
        return self.order_by(*UNREAD_FIRST)

    def mark_read(self, *, now):
        """Mark the unread ones among these read at `now`; returns how many."""
        return self.unread().update(read_at=now)

    def email_pending(self):
        """E-mails still to send (not sent, not given up on)."""
        return self.filter(email_wanted=True, emailed_at__isnull=True, email_failed_at__isnull=True)

    def email_dead(self):
        """E-mails given up on (refused by the mail server, or out of attempts)."""
        return self.filter(email_failed_at__isnull=False, emailed_at__isnull=True)


class Notification(models.Model):
    """An in-app message to one staff member, optionally also sent by e-mail.

    `event_key` makes notifying idempotent: the same event (say, "case 202611-00042 escalated
    to level 1") notifies each recipient once however often the code that raises it runs.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    event_key = models.CharField(_("event"), max_length=200)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_wanted = models.BooleanField(_("send by e-mail"), default=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    # The outbox (servicedesk.outbox): when the e-mail is next due (a claim pushes it one lease
    # ahead), how often it was tried, why it last failed, and when it was given up on.
    email_due_at = models.DateTimeField(_("e-mail due"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(_("e-mail attempts"), default=0)
    email_error = models.TextField(_("e-mail error"), blank=True)
    email_failed_at = models.DateTimeField(_("e-mail given up at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_key"], name="notification_once_per_event"
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_unread_idx",
                condition=models.Q(read_at__isnull=True),
            ),
            models.Index(
                fields=["id"],
                name="notification_email_queue_idx",
                condition=models.Q(
                    email_wanted=True, emailed_at__isnull=True, email_failed_at__isnull=True
                ),
            ),
        ]

    def __str__(self):
        return self.subject


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="staff_user_groups_changed")
def _groups_changed(sender, instance, **kwargs):
    # group.user_set.add(...) passes the group: other users' loaded instances keep what they
    # read until loaded again (each request loads its user afresh).
    if isinstance(instance, User):
        instance._role_names = None
