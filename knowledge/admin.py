"""The admin for contingency plans, their revisions (with the approval workflow, history and a
diff between any two revisions), post-incident reviews and knowledge-base articles.

Thin by design: every workflow step calls knowledge.services. A revision is editable only
while a draft (or after a rejection); once submitted its page, stages and resources are
read-only, and simple-history's "revert" is refused (it would write fields directly, around
the lifecycle).

The article admin lives in admin_articles, the revision admin in admin_revisions; this
module imports both at its end and re-exports ArticleAdmin.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .diff import revision_diff
from .history import ReadableHistoryMixin
from .models import (
    CASE_TYPE_CHOICES,
    CATEGORY_CHOICES,
    ArticleStatus,
    Plan,
    PlanRevision,
    PostIncidentReview,
    RevisionState,
)

STATE_COLOURS = {
    RevisionState.DRAFT: "#6b7280",
    RevisionState.PENDING_APPROVAL: "#b45309",
    RevisionState.PUBLISHED: "#15803d",
    RevisionState.SUPERSEDED: "#6b7280",
    RevisionState.REJECTED: "#c62828",
}
ARTICLE_COLOURS = {
    ArticleStatus.DRAFT: "#6b7280",
    ArticleStatus.PUBLISHED: "#15803d",
    ArticleStatus.ARCHIVED: "#6b7280",
}


def badge(label, colour):
    return format_html('<span class="sd-badge" style="background:{}">{}</span>', colour, label)


def state_badge(revision):
    return badge(revision.get_state_display(), STATE_COLOURS.get(revision.state, "#6b7280"))


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Kept in the history with your name and the time."),
    )

    def add_service_errors(self, exc):
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


class RejectForm(ReasonForm):
    reason = forms.CharField(
        label=gettext_lazy("Comment for the author"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What must change before the revision can be approved."),
    )


class NewDraftForm(ReasonForm):
    from_revision = forms.TypedChoiceField(
        label=gettext_lazy("Copy from revision"), coerce=int, required=False
    )
    reason = forms.CharField(
        label=gettext_lazy("Why a new revision?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Organisation, product or system changes, a review's findings …"),
    )

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("the revision in force"))]
        choices += [
            (r.pk, f"{r.number} · {r.get_state_display()}")
            for r in plan.revisions.order_by("-number")
        ]
        self.fields["from_revision"].choices = choices


class ActionPageMixin:
    """A small form page for one workflow step, posting to the same URL."""

    def _action_page(self, request, obj, *, title, form, submit, back_url, intro=""):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "original": obj,
            "back_url": back_url,
            "form": form,
            "adminform": helpers.AdminForm(
                form, [(None, {"fields": list(form.fields)})], {}, model_admin=self
            ),
            "submit_label": submit,
            "intro": intro,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "knowledge/admin/action_form.html", context)

    def _refuse_revert(self, request):
        self.message_user(
            request,
            _(
                "Plans and revisions are not reverted from their history: start a new draft "
                "revision instead, so the change is reviewed and approved."
            ),
            messages.ERROR,
        )


# --- plans -------------------------------------------------------------------------------


class PlanForm(forms.ModelForm):
    case_types = forms.MultipleChoiceField(
        label=gettext_lazy("case types governed"),
        choices=CASE_TYPE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every case type."),
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("categories governed"),
        choices=CATEGORY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every category."),
    )

    class Meta:
        model = Plan
        fields = ["name", "code", "is_default", "owner", "departments", "scope", "case_types",
                  "categories", "situations", "next_review_on"]  # fmt: skip
        widgets = {"departments": forms.CheckboxSelectMultiple}


class RevisionInline(admin.TabularInline):
    model = PlanRevision
    fields = ["revision_link", "state_display", "author", "submitted_at", "reviewer",
              "published_at", "superseded_at"]  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]
    verbose_name_plural = gettext_lazy("revisions")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "reviewer")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("revision"))
    def revision_link(self, obj):
        url = reverse("admin:knowledge_planrevision_change", args=[obj.pk])
        return format_html('<a href="{}">{} {}</a>', url, _("Revision"), obj.number)

    @admin.display(description=gettext_lazy("state"))
    def state_display(self, obj):
        return state_badge(obj)


class ReviewFilter(admin.SimpleListFilter):
    title = gettext_lazy("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("due", gettext_lazy("Due within 30 days")),
            ("overdue", gettext_lazy("Overdue")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "due":
            return queryset.review_due(today, services.REVIEW_REMINDER_DAYS)
        if self.value() == "overdue":
            return queryset.review_overdue(today)
        return queryset


@admin.register(Plan)
class PlanAdmin(ReadableHistoryMixin, ActionPageMixin, SimpleHistoryAdmin):
    form = PlanForm
    list_display = ["name", "code", "is_default", "scope_display", "owner", "in_force",
                    "next_review_on", "review_status"]  # fmt: skip
    list_display_links = ["name"]
    list_filter = ["is_default", ReviewFilter]
    list_select_related = ["owner"]
    search_fields = ["name", "code", "scope"]
    readonly_fields = ["last_reviewed_on", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "code", "is_default", "owner", "departments"]}),
        (gettext_lazy("Scope"), {"fields": ["scope", "case_types", "categories", "situations"]}),
        (
            gettext_lazy("Reviews"),
            {"fields": ["next_review_on", "last_reviewed_on", "created_at", "updated_at"]},
        ),
    ]
    inlines = [RevisionInline]
    change_form_template = "admin/knowledge/plan/change_form.html"

    def get_queryset(self, request):
        published = PlanRevision.objects.filter(plan=OuterRef("pk"), state=RevisionState.PUBLISHED)
        return (
            super()
            .get_queryset(request)
            .annotate(
                published_number=Subquery(published.values("number")[:1]),
                published_pk=Subquery(published.values("pk")[:1]),
            )
        )

    def has_delete_permission(self, request, obj=None):
        # Plans keep their revisions (and cases point at them): retire by scope, not delete.
        return False

    @admin.display(description=gettext_lazy("scope"))
    def scope_display(self, obj):
        types = dict(CASE_TYPE_CHOICES)
        cats = dict(CATEGORY_CHOICES)
        parts = [
            "、".join(str(types.get(c, c)) for c in obj.case_types) or _("all types"),
            "、".join(str(cats.get(c, c)) for c in obj.categories) or _("all categories"),
        ]
        return " · ".join(parts)

    @admin.display(description=gettext_lazy("in force"))
    def in_force(self, obj):
        if obj.published_number is None:
            return format_html('<span class="sd-warn">{}</span>', _("none"))
        url = reverse("admin:knowledge_planrevision_change", args=[obj.published_pk])
        return format_html('<a href="{}">{} {}</a>', url, _("Revision"), obj.published_number)

    @admin.display(description=gettext_lazy("review"))
    def review_status(self, obj):
        today = timezone.localdate()
        if obj.review_is_overdue(today):
            return badge(_("overdue"), "#c62828")
        if (
            obj.next_review_on
            and (obj.next_review_on - today).days <= services.REVIEW_REMINDER_DAYS
        ):
            return badge(_("due soon"), "#b45309")
        return ""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/new-draft/", view(self.new_draft_view), name="knowledge_plan_new_draft"),
            path("<int:pk>/diff/", view(self.diff_view), name="knowledge_plan_diff"),
            path("<int:pk>/review/", view(self.record_review_view), name="knowledge_plan_review"),
            *super().get_urls(),
        ]

    def _plan_for(self, request, pk):
        plan = self.get_object(request, str(pk))
        if plan is None:
            raise Http404
        if not self.has_view_or_change_permission(request, plan):
            raise PermissionDenied
        return plan

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                can_draft=request.user.has_perm("knowledge.add_planrevision"),
                can_review=request.user.has_perm("knowledge.change_plan"),
                new_draft_url=reverse("admin:knowledge_plan_new_draft", args=[obj.pk]),
                diff_url=reverse("admin:knowledge_plan_diff", args=[obj.pk]),
                review_url=reverse("admin:knowledge_plan_review", args=[obj.pk]),
                review_overdue=obj.review_is_overdue(),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def new_draft_view(self, request, pk):
        plan = self._plan_for(request, pk)
        if not request.user.has_perm("knowledge.add_planrevision"):
            raise PermissionDenied
        form = NewDraftForm(request.POST if request.method == "POST" else None, plan=plan)
        if form.is_bound and form.is_valid():
            source = None
            if form.cleaned_data["from_revision"]:
                source = plan.revisions.filter(pk=form.cleaned_data["from_revision"]).first()
            try:
                revision = services.plan_revision_create_draft(
                    plan=plan, user=request.user, from_revision=source,
                    reason=form.cleaned_data["reason"],
                )  # fmt: skip
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                self.message_user(
                    request,
                    _("Revision %(number)s drafted: edit it, then submit it for approval.")
                    % {"number": revision.number},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:knowledge_planrevision_change", args=[revision.pk])
                )
        return self._action_page(
            request,
            plan,
            title=_("New draft revision · %(plan)s") % {"plan": plan},
            form=form,
            submit=_("Create the draft"),
            back_url=reverse("admin:knowledge_plan_change", args=[plan.pk]),
        )

    def record_review_view(self, request, pk):
        plan = self._plan_for(request, pk)
        if not request.user.has_perm("knowledge.change_plan"):
            raise PermissionDenied
        form = ReasonForm(request.POST if request.method == "POST" else None)
        form.fields["reason"].label = _("Review findings")
        if form.is_bound and form.is_valid():
            try:
                plan = services.plan_review_record(
                    plan=plan, user=request.user, note=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                self.message_user(
                    request,
                    _("Review recorded. The next review is due on %(date)s.")
                    % {"date": plan.next_review_on.isoformat()},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:knowledge_plan_change", args=[plan.pk]))
        return self._action_page(
            request,
            plan,
            title=_("Record a review without changes · %(plan)s") % {"plan": plan},
            form=form,
            submit=_("Record the review"),
            back_url=reverse("admin:knowledge_plan_change", args=[plan.pk]),
            intro=_(
                "The plan was reviewed and stays as it is. To change it, start a new draft "
                "revision instead: publishing it also counts as the review."
            ),
        )

    def diff_view(self, request, pk):
        plan = self._plan_for(request, pk)
        revisions = list(plan.revisions.order_by("number").prefetch_related("stages", "resources"))
        by_number = {r.number: r for r in revisions}
        published = next((r for r in revisions if r.state == RevisionState.PUBLISHED), None)

        def pick(name, default):
            try:
                return by_number.get(int(request.GET.get(name, "")), default)
            except ValueError:
                return default

        newest = revisions[-1] if revisions else None
        new = pick("new", newest)
        older = [r for r in revisions if new and r.number < new.number]
        old = pick(
            "old",
            published if published and published is not new else (older[-1] if older else new),
        )
        diff = revision_diff(old, new) if old and new else None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Compare revisions · %(plan)s") % {"plan": plan},
            "opts": self.opts,
            "original": plan,
            "plan": plan,
            "revisions": revisions,
            "old": old,
            "new": new,
            "diff": diff,
        }
        return TemplateResponse(request, "knowledge/admin/revision_diff.html", context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            self._refuse_revert(request)
            return HttpResponseRedirect(reverse("admin:knowledge_plan_history", args=[object_id]))
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True


# --- post-incident reviews ---------------------------------------------------------------


@admin.register(PostIncidentReview)
class PostIncidentReviewAdmin(ReadableHistoryMixin, SimpleHistoryAdmin):
    list_display = ["event", "plan", "occurred_on", "created_by", "revision_in_force",
                    "draft_link"]  # fmt: skip
    list_filter = ["plan"]
    list_select_related = ["plan", "created_by", "revision_in_force__plan",
                           "resulting_revision__plan"]  # fmt: skip
    search_fields = ["event", "what_happened", "lessons"]
    date_hierarchy = "occurred_on"
    readonly_fields = ["created_by", "created_at", "revision_in_force", "draft_link"]
    fields = ["plan", "event", "occurred_on", "what_happened", "plan_performance", "lessons",
              "proposed_changes", "revision_in_force", "draft_link", "created_by", "created_at"]  # fmt: skip
    actions = ["start_draft"]
    change_form_template = "admin/knowledge/postincidentreview/change_form.html"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            obj._history_user = request.user
            obj.save()
        else:
            services.post_incident_review_record(review=obj, user=request.user)

    @admin.display(description=gettext_lazy("draft revision started"))
    def draft_link(self, obj):
        if obj.resulting_revision_id is None:
            return "—"
        url = reverse("admin:knowledge_planrevision_change", args=[obj.resulting_revision_id])
        return format_html('<a href="{}">{}</a>', url, obj.resulting_revision)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                can_draft=request.user.has_perm("knowledge.add_planrevision"),
                start_draft_url=reverse(
                    "admin:knowledge_postincidentreview_start_draft", args=[obj.pk]
                ),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "<int:pk>/start-draft/",
                self.admin_site.admin_view(self.start_draft_view),
                name="knowledge_postincidentreview_start_draft",
            ),
            *super().get_urls(),
        ]

    def start_draft_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        review = get_object_or_404(PostIncidentReview.objects.select_related("plan"), pk=pk)
        try:
            revision = services.post_incident_review_start_draft(review=review, user=request.user)
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(
                request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR
            )
            return HttpResponseRedirect(
                reverse("admin:knowledge_postincidentreview_change", args=[review.pk])
            )
        self.message_user(
            request,
            _("Draft revision %(number)s started from this review.") % {"number": revision.number},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse("admin:knowledge_planrevision_change", args=[revision.pk])
        )

    @admin.action(
        description=gettext_lazy("Start a new draft revision from the selected reviews"),
        permissions=["add_planrevision"],
    )
    def start_draft(self, request, queryset):
        done = []
        for review in queryset.select_related("plan"):
            try:
                revision = services.post_incident_review_start_draft(
                    review=review, user=request.user
                )
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            done.append(str(revision))
        self.message_user(
            request, _("Draft revisions started: %(list)s") % {"list": "、".join(done)}
        )

    def has_add_planrevision_permission(self, request):
        return request.user.has_perm("knowledge.add_planrevision")


# Articles, then the revision admin, in the order they were registered in.
# isort: off
from .admin_articles import ArticleAdmin  # noqa: E402, F401
from . import admin_revisions  # noqa: E402, F401  (registers the revision admin)
# isort: on
