"""Questionnaires in the admin: versions are drafts until published, then read-only; "Publish"
and "New version" call callbacks.services."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import services
from .models import (
    Choice,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    VersionStatus,
)


def _error_text(exc):
    return " ".join(exc.messages)


def _editable(obj):
    """`obj` is a version, a question or None (the add page / a changelist)."""
    if obj is None:
        return True
    version = obj if isinstance(obj, QuestionnaireVersion) else obj.version
    return version.is_editable


def _new_versions(modeladmin, request, questionnaires):
    for questionnaire in questionnaires:
        try:
            version = services.questionnaire_new_version(
                questionnaire=questionnaire, user=request.user
            )
        except ValidationError as exc:
            modeladmin.message_user(request, f"{questionnaire}: {_error_text(exc)}", messages.ERROR)
        else:
            modeladmin.message_user(
                request,
                _("%(version)s created as a draft.") % {"version": version},
                messages.SUCCESS,
            )


class QuestionnaireVersionInline(admin.TabularInline):
    model = QuestionnaireVersion
    fields = ["number", "status", "published_at", "created"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("questionnaire")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "published_number", "created"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    inlines = [QuestionnaireVersionInline]
    actions = ["new_version"]

    def get_queryset(self, request):
        published = QuestionnaireVersion.objects.filter(
            questionnaire=OuterRef("pk"), status=VersionStatus.PUBLISHED
        ).values("number")[:1]
        return super().get_queryset(request).annotate(published_number=Subquery(published))

    def get_readonly_fields(self, request, obj=None):
        # The code is the stable key other parts refer to: set once.
        return ["code", "created"] if obj else ["created"]

    @admin.display(description=gettext_lazy("version in use"), ordering="published_number")
    def published_number(self, obj):
        return obj.published_number or "-"

    @admin.action(
        description=gettext_lazy("New version (copy of the one in use)"),
        permissions=["new_version"],
    )
    def new_version(self, request, queryset):
        _new_versions(self, request, queryset)

    def has_new_version_permission(self, request):
        return request.user.has_perm("callbacks.add_questionnaireversion")


class QuestionInline(admin.TabularInline):
    model = Question
    fields = [
        "order",
        "code",
        "text",
        "kind",
        "required",
        "is_overall_satisfaction",
        "problem_category",
        "choice_count",
    ]
    readonly_fields = ["choice_count"]
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_choices=Count("choices"))

    @admin.display(description=gettext_lazy("choices"))
    def choice_count(self, obj):
        return getattr(obj, "num_choices", "-") if obj.pk else "-"

    def has_add_permission(self, request, obj=None):
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "questionnaire", "number", "status", "published_at"]
    list_filter = ["status", "questionnaire"]
    list_select_related = ["questionnaire"]
    fields = [
        "questionnaire",
        "number",
        "status",
        "greeting",
        "greeting_translations",
        "closing",
        "closing_translations",
        "created_by",
        "published_at",
        "published_by",
    ]
    readonly_fields = [
        "questionnaire",
        "number",
        "status",
        "created_by",
        "published_at",
        "published_by",
    ]
    inlines = [QuestionInline]
    actions = ["publish", "new_version"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("questionnaire", "created_by", "published_by")
        )

    # Versions are created by the "New version" action, never from a blank form.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)

    def has_publish_permission(self, request):
        return request.user.has_perm("callbacks.change_questionnaireversion")

    @admin.action(description=gettext_lazy("Publish (retires the version in use)"))
    def publish(self, request, queryset):
        done = 0
        for version in queryset:
            try:
                services.questionnaire_publish(version=version, user=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{version}: {_error_text(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%d version published.", "%d versions published.", done) % done,
                messages.SUCCESS,
            )

    publish.allowed_permissions = ["publish"]

    @admin.action(
        description=gettext_lazy("New version (copy of the one in use)"),
        permissions=["new_version"],
    )
    def new_version(self, request, queryset):
        ids = queryset.values_list("questionnaire_id", flat=True).distinct()
        _new_versions(self, request, Questionnaire.objects.filter(pk__in=ids))

    def has_new_version_permission(self, request):
        return request.user.has_perm("callbacks.add_questionnaireversion")


class ChoiceInline(admin.TabularInline):
    model = Choice
    fields = ["order", "label", "translations", "score"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return _editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "kind", "required", "version"]
    list_filter = ["kind", "version__status"]
    list_select_related = ["version__questionnaire"]
    search_fields = ["text", "code"]
    fields = [
        "version",
        "order",
        "code",
        "text",
        "translations",
        "kind",
        "required",
        "is_overall_satisfaction",
        "problem_category",
    ]
    inlines = [ChoiceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("version__questionnaire")

    def get_readonly_fields(self, request, obj=None):
        # A question stays in the version it was written for.
        return ["version"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "version":
            kwargs["queryset"] = QuestionnaireVersion.objects.filter(
                status=VersionStatus.DRAFT
            ).select_related("questionnaire")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _editable(obj) and super().has_delete_permission(request, obj)


# --- the callback queue ----------------------------------------------------------------------
