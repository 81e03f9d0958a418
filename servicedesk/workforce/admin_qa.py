"""Quality assurance in the admin: scorecards and their versions, the monthly sample, the
reviewers' queue (score, comment; the agent disputes once; a supervisor settles), mystery
shopper results, and the agent performance page."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from callbacks.models import VersionStatus
from servicedesk.staff import roles

from . import performance, qa
from .models import (
    MAX_POINTS,
    AgentPerformance,
    MysteryShop,
    QaReview,
    QaSample,
    ReviewStatus,
    Scorecard,
    ScorecardItem,
    ScorecardVersion,
)


class ScorecardItemInline(admin.TabularInline):
    model = ScorecardItem
    extra = 0

    def has_change_permission(self, request, obj=None):
        # A published or retired version is history: reviews were scored with it.
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    has_add_permission = has_delete_permission = has_change_permission


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(ScorecardVersion)
class ScorecardVersionAdmin(admin.ModelAdmin):
    list_display = ["scorecard", "number", "status", "published_at"]
    list_filter = ["status", "scorecard"]
    list_select_related = ["scorecard"]
    readonly_fields = ["status", "published_at"]
    inlines = [ScorecardItemInline]
    actions = ["publish", "new_draft"]

    @admin.action(description=gettext_lazy("Publish the selected draft"))
    def publish(self, request, queryset):
        for version in queryset:
            try:
                qa.scorecard_publish(version=version)
                messages.success(request, _("%(version)s published.") % {"version": version})
            except ValidationError as exc:
                messages.error(request, f"{version}: {'; '.join(exc.messages)}")

    @admin.action(description=gettext_lazy("New draft from the selected version"))
    def new_draft(self, request, queryset):
        for version in queryset:
            draft = qa.scorecard_new_draft(version=version)
            messages.success(request, _("%(version)s created as a draft.") % {"version": draft})


class SampleForm(forms.ModelForm):
    seed = forms.IntegerField(
        label=gettext_lazy("random seed"), required=False,
        help_text=gettext_lazy("Empty: a new random seed (recorded). Give a recorded seed to redraw the same sample."),
    )  # fmt: skip

    class Meta:
        model = QaSample
        fields = ["month", "version", "share", "minimum", "low_satisfaction_factor"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = ScorecardVersion.objects.filter(
            status=VersionStatus.PUBLISHED
        )
        self.fields["month"].help_text = _("Any day of the month.")

    def clean_month(self):
        month = self.cleaned_data["month"].replace(day=1)
        if QaSample.objects.filter(month=month).exists():
            raise ValidationError(_("This month already has a sample."))
        return month


@admin.register(QaSample)
class QaSampleAdmin(admin.ModelAdmin):
    form = SampleForm
    list_display = ["month", "seed", "version", "share", "minimum", "review_count", "created_by"]
    list_select_related = ["version__scorecard", "created_by"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(n=Count("reviews"))

    @admin.display(description=gettext_lazy("cases sampled"))
    def review_count(self, obj):
        return obj.n

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in QaSample._meta.fields] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        sample = qa.qa_sample_create(
            month=data["month"], version=data["version"], user=request.user, seed=data.get("seed"),
            share=data["share"], minimum=data["minimum"], factor=data["low_satisfaction_factor"],
        )  # fmt: skip
        obj.pk = sample.pk
        obj.seed = sample.seed

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)


def points_fields(version, initial=None):
    initial = initial or {}
    fields = {}
    for item in version.items.all():
        fields[f"item_{item.pk}"] = forms.IntegerField(
            label=f"{item.label} (×{item.weight})", min_value=0, max_value=MAX_POINTS,
            help_text=item.description, initial=initial.get(str(item.pk)),
        )  # fmt: skip
    return fields


def points_form(version, data=None, initial=None, extra=None):
    form_class = type(
        "PointsForm", (forms.Form,), {**points_fields(version, initial), **(extra or {})}
    )
    return form_class(data)


def _points(form, version):
    return {str(i.pk): form.cleaned_data.get(f"item_{i.pk}") for i in version.items.all()}


@admin.register(QaReview)
class QaReviewAdmin(admin.ModelAdmin):
    list_display = ["case", "agent", "status", "score", "reviewer", "reviewed_at", "sample"]
    list_filter = ["status", "sample"]
    list_select_related = ["case", "agent", "reviewer", "sample"]
    search_fields = ["case__number", "agent__username", "agent__last_name"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.has_perm("workforce.change_qareview"):
            return qs
        return qs.filter(agent=request.user).exclude(status=ReviewStatus.PENDING)

    def has_view_permission(self, request, obj=None):
        if request.user.has_perm("workforce.view_qareview"):
            return True
        return obj is None or obj.agent_id == request.user.pk

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        review = get_object_or_404(
            self.get_queryset(request).select_related("case", "agent", "version"), pk=object_id
        )
        action = request.POST.get("action") if request.method == "POST" else None
        forms_ = review_forms(review, request.user, request.POST if action else None, action)
        if action:
            form = forms_.get(action)
            if form is None:
                raise PermissionDenied
            if form.is_valid() and apply_review_form(action, form, review, request.user):
                messages.success(request, _("Saved."))
                return HttpResponseRedirect(request.path)
        items = [
            {"label": i.label, "weight": i.weight, "points": review.points.get(str(i.pk))}
            for i in review.version.items.all()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("QA review of case %(number)s") % {"number": review.case.number},
            "opts": self.model._meta,
            "review": review,
            "items": items,
            "max_points": MAX_POINTS,
            "score_form": forms_.get("score"),
            "dispute_form": forms_.get("dispute"),
            "settle_form": forms_.get("settle"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/workforce/review.html", context)


def review_forms(review, user, data, action):
    """The forms this user may use on this review now: score (a reviewer, not the agent),
    dispute (the agent, once, after the review), settle (a supervisor, while disputed)."""
    own = user.pk == review.agent_id
    result = {}
    if (
        user.has_perm("workforce.change_qareview") and not own
        and review.status in (ReviewStatus.PENDING, ReviewStatus.REVIEWED)
    ):  # fmt: skip
        extra = {
            "comment": forms.CharField(label=_("Comments"), widget=forms.Textarea, required=False)
        }
        form = points_form(
            review.version, data if action == "score" else None, review.points, extra
        )
        form.initial.setdefault("comment", review.comment)
        result["score"] = form
    if own and review.status == ReviewStatus.REVIEWED and review.disputed_at is None:
        extra = {
            "dispute_reason": forms.CharField(label=_("Why you disagree"), widget=forms.Textarea)
        }
        result["dispute"] = points_form_plain(extra, data if action == "dispute" else None)
    if (
        user.has_role(roles.SUPERVISOR, roles.MANAGER) and not own
        and review.status == ReviewStatus.DISPUTED
    ):  # fmt: skip
        extra = {"settlement": forms.CharField(label=_("Decision"), widget=forms.Textarea)}
        result["settle"] = points_form(
            review.version, data if action == "settle" else None, review.points, extra
        )
    return result


def apply_review_form(action, form, review, user):
    """Call the service for a valid form; field errors back onto the form (False)."""
    data = form.cleaned_data
    try:
        if action == "score":
            qa.qa_review_submit(
                review=review, user=user, points=_points(form, review.version),
                comment=data["comment"],
            )  # fmt: skip
        elif action == "dispute":
            qa.qa_review_dispute(review=review, user=user, reason=data["dispute_reason"])
        else:
            qa.qa_review_settle(
                review=review, user=user, settlement=data["settlement"],
                points=_points(form, review.version),
            )  # fmt: skip
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
        for field, messages_ in errors.items():
            form.add_error(field if field in form.fields else None, messages_)
        return False
    return True


def points_form_plain(fields, data):
    return type("PlainForm", (forms.Form,), dict(fields))(data)


class MysteryShopForm(forms.ModelForm):
    class Meta:
        model = MysteryShop
        fields = ["version", "channel", "agent", "shopped_at", "shopper", "scenario", "comment"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = ScorecardVersion.objects.filter(
            status=VersionStatus.PUBLISHED
        )
        version = self._version()
        if version is not None:
            self.fields.update(points_fields(version, self.instance.points))

    def _version(self):
        pk = self.data.get("version") or self.initial.get("version") or self.instance.version_id
        if pk is None:
            return ScorecardVersion.objects.filter(status=VersionStatus.PUBLISHED).first()
        return ScorecardVersion.objects.filter(pk=pk).first()

    def clean(self):
        data = super().clean()
        version = data.get("version")
        if version is not None:
            points = {str(i.pk): data.get(f"item_{i.pk}") for i in version.items.all()}
            try:
                self.instance.points = qa._validated_points(version, points)
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errs)
            else:
                self.instance.score = version.score(self.instance.points)
        return data


@admin.register(MysteryShop)
class MysteryShopAdmin(admin.ModelAdmin):
    form = MysteryShopForm
    list_display = ["shopped_at", "channel", "agent", "scenario", "score", "shopper"]
    list_filter = ["channel"]
    list_select_related = ["agent"]

    def save_model(self, request, obj, form, change):
        obj.recorded_by = obj.recorded_by or request.user
        super().save_model(request, obj, form, change)


def _month(text):
    try:
        return datetime.date.fromisoformat(f"{text}-01")
    except (TypeError, ValueError):
        return timezone.localdate().replace(day=1)


@admin.register(AgentPerformance)
class AgentPerformanceAdmin(admin.ModelAdmin):
    """Supervisors and managers only (the proxy's view permission)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        month = _month(request.GET.get("month"))
        start, end = qa.month_bounds(month)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Agent performance"),
            "opts": self.model._meta,
            "month": month,
            "rows": performance.agent_performance(start=start, end=end),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/workforce/performance.html", context)
