"""The admin for follow-up planning: follow-up plans (editable in the list), deliveries from the
order system, and stratified samples.

A sample is drawn by callbacks.services.sample_create from the add form (the sample's
parameters) and never changes afterwards: its page shows the seed, the population, the strata
and a link to its calls in the follow-up queue.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints.admin import NormalizedPhoneSearchMixin
from complaints.models import CustomerKind, CustomerTier

from . import followup_plans, rewards, services
from .models import (
    Delivery,
    FollowUpPlan,
    FollowUpPlanKind,
    FollowUpStatus,
    OpinionCategory,
    Questionnaire,
    RewardCoupon,
    Sample,
)


def _followups_url(**params):
    """The follow-up queue's changelist, filtered by `params` (its status filter is "status",
    pending unless "all" is asked for)."""
    try:
        url = reverse("admin:callbacks_followup_changelist")
    except NoReverseMatch:  # the queue's admin is not registered (yet)
        url = reverse("admin:index") + "callbacks/followup/"
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}" if query else url


# --- follow-up plans -------------------------------------------------------------------------

MAX_MONTHS = 60


class FollowUpPlanForm(forms.ModelForm):
    """A plan's rules. Also the form of each row of the editable list, where the kind is not
    a field: then the saved kind counts."""

    class Meta:
        model = FollowUpPlan
        fields = [
            "name", "kind", "tier", "every_months", "working_days_after_delivery",
            "questionnaire", "is_active",
        ]  # fmt: skip

    def _value(self, name):
        if name in self.fields:
            return self.cleaned_data.get(name)
        return getattr(self.instance, name)

    def clean(self):
        cleaned = super().clean()
        kind, tier = self._value("kind"), self._value("tier")
        active = self._value("is_active")
        errors = {}
        if kind == FollowUpPlanKind.TIER:
            if not tier:
                errors["tier"] = _("A periodic plan needs the customer tier it covers.")
            if not 1 <= (self._value("every_months") or 0) <= MAX_MONTHS:
                errors["every_months"] = _(
                    "A periodic plan needs an interval of 1 to %(max)s months."
                ) % {"max": MAX_MONTHS}
        elif kind == FollowUpPlanKind.DELIVERY:
            if tier:
                errors["tier"] = _(
                    "An after-delivery plan covers every customer: leave the tier empty."
                )
            if not self._value("working_days_after_delivery"):
                errors["working_days_after_delivery"] = _(
                    "An after-delivery plan needs the number of working days (at least 1)."
                )
        if active and kind and not errors:
            others = FollowUpPlan.objects.filter(is_active=True, kind=kind).exclude(
                pk=self.instance.pk
            )
            if kind == FollowUpPlanKind.TIER and others.filter(tier=tier).exists():
                errors["tier"] = _(
                    "Another active plan already covers this tier; deactivate that one first."
                )
            elif kind == FollowUpPlanKind.DELIVERY and others.exists():
                errors["is_active"] = _(
                    "Another after-delivery plan is active; deactivate that one first."
                )
        for name, message in errors.items():
            # On a row of the editable list some of these fields are not in the form.
            self.add_error(name if name in self.fields else None, message)
        return cleaned


@admin.register(FollowUpPlan)
class FollowUpPlanAdmin(admin.ModelAdmin):
    form = FollowUpPlanForm
    list_display = [
        "name", "kind", "tier", "every_months", "working_days_after_delivery", "questionnaire",
        "is_active", "approval", "waiting",
    ]  # fmt: skip
    actions = ["approve_plans"]
    list_display_links = ["name"]
    list_editable = ["tier", "every_months", "working_days_after_delivery", "is_active"]
    list_filter = ["kind", "is_active"]
    list_select_related = ["questionnaire"]
    fields = [
        "name", "kind", "tier", "every_months", "working_days_after_delivery", "questionnaire",
        "is_active",
    ]  # fmt: skip

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                num_waiting=Count("followups", filter=Q(followups__status=FollowUpStatus.PENDING))
            )
        )

    readonly_fields = ["approved_by", "approved_at"]

    def get_fields(self, request, obj=None):
        return [*super().get_fields(request, obj), "approved_by", "approved_at"]

    def save_model(self, request, obj, form, change):
        followup_plans.followup_plan_rules_changed(obj, form.changed_data)
        super().save_model(request, obj, form, change)

    @admin.display(description=gettext_lazy("approved"), boolean=True)
    def approval(self, obj):
        return obj.approved_at is not None

    @admin.action(
        description=gettext_lazy("Approve the selected plans (they start generating calls)"),
        permissions=["approve"],
    )
    def approve_plans(self, request, queryset):
        for plan in queryset:
            followup_plans.followup_plan_approve(plan=plan, user=request.user)
        self.message_user(request, _("Approved: %(n)s plan(s).") % {"n": queryset.count()})

    def has_approve_permission(self, request):
        return request.user.has_perm("callbacks.approve_followupplan")

    def get_changelist_form(self, request, **kwargs):
        # The rows of the editable list follow the same rules as the plan's page. Each row is
        # checked against the saved plans, so moving a tier between two plans takes two saves.
        return super().get_changelist_form(request, form=FollowUpPlanForm, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "tier":
            # The model keeps tiers as free text (delivery plans have none): offer the tiers.
            return forms.ChoiceField(
                choices=[("", "---------"), *CustomerTier.choices],
                required=False,
                label=capfirst(db_field.verbose_name),
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "questionnaire":
            kwargs["queryset"] = Questionnaire.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("calls waiting"), ordering="num_waiting")
    def waiting(self, obj):
        if not obj.num_waiting:
            return 0
        return format_html(
            '<a href="{}">{}</a>',
            _followups_url(plan__id__exact=obj.pk, status=FollowUpStatus.PENDING),
            obj.num_waiting,
        )


# --- deliveries ------------------------------------------------------------------------------


class HasFollowUpFilter(admin.SimpleListFilter):
    title = gettext_lazy("follow-up call")
    parameter_name = "followup"

    def lookups(self, request, model_admin):
        return [("yes", gettext_lazy("Created")), ("no", gettext_lazy("Not yet"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(followup__isnull=False)
        if self.value() == "no":
            return queryset.filter(followup__isnull=True)
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(NormalizedPhoneSearchMixin, admin.ModelAdmin):
    list_display = [
        "order_no", "customer", "product", "amount", "delivered_at", "followup_due",
        "followup_status",
    ]  # fmt: skip
    list_select_related = ["customer", "followup"]
    list_filter = [HasFollowUpFilter]
    search_fields = [
        "=order_no", "customer__name", "=customer__phone_normalized",
        "=customer__member_no_normalized",
    ]  # fmt: skip
    search_help_text = gettext_lazy("Order number, or the customer's name, phone or member number")
    phone_search_path = "customer__phone_normalized"
    date_hierarchy = "delivered_at"
    autocomplete_fields = ["customer"]
    fields = ["order_no", "customer", "product", "amount", "delivered_at"]
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "followup")

    def get_readonly_fields(self, request, obj=None):
        # Once its call exists, the delivery it was planned from stays as it was.
        if obj is not None and hasattr(obj, "followup"):
            return ["order_no", "customer", "delivered_at", "followup_due", "followup_status"]
        return []

    def get_fields(self, request, obj=None):
        if obj is not None and hasattr(obj, "followup"):
            return [*self.fields, "followup_due", "followup_status"]
        return self.fields

    @admin.display(description=gettext_lazy("follow-up due"))
    def followup_due(self, obj):
        followup = getattr(obj, "followup", None)
        return followup.due_at if followup else "-"

    @admin.display(description=gettext_lazy("follow-up call"))
    def followup_status(self, obj):
        followup = getattr(obj, "followup", None)
        if followup is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            _followups_url(delivery__id__exact=obj.pk, status="all"),
            followup.get_status_display(),
        )


# --- samples ---------------------------------------------------------------------------------


def _label(name):
    return capfirst(Sample._meta.get_field(name).verbose_name)


class SampleForm(forms.Form):
    """The parameters of a new sample: what callbacks.services.sample_create takes."""

    name = forms.CharField(label=_label("name"), max_length=100)
    size = forms.IntegerField(label=_label("size"), min_value=1)
    min_new_share = forms.DecimalField(
        label=_label("min_new_share"),
        min_value=0,
        max_value=1,
        max_digits=3,
        decimal_places=2,
        initial=Decimal("0.20"),
        help_text=Sample._meta.get_field("min_new_share").help_text,
    )
    new_within_days = forms.IntegerField(
        label=_label("new_within_days"), min_value=0, max_value=32767, initial=90
    )
    amount_limits = forms.CharField(
        label=gettext_lazy("Purchase amount bands (yuan)"),
        required=False,
        initial="1000, 10000",
        help_text=gettext_lazy(
            "Where each band starts: “1000, 10000” gives below 1000, 1000 to below 10000, "
            "and 10000 or more."
        ),
    )
    count_limits = forms.CharField(
        label=gettext_lazy("Purchase frequency bands (orders)"),
        required=False,
        initial="2, 6",
        help_text=gettext_lazy("Where each band starts: “2, 6” gives 0–1, 2–5 and 6 or more."),
    )
    seed = forms.IntegerField(
        label=_label("seed"),
        required=False,
        help_text=gettext_lazy(
            "Leave empty for a random seed. Enter the seed of an earlier sample to draw it "
            "again: the same seed and the same customers give the same sample."
        ),
    )
    questionnaire = forms.ModelChoiceField(
        label=_label("questionnaire"),
        queryset=Questionnaire.objects.filter(is_active=True),
        required=False,
        empty_label=gettext_lazy("The satisfaction questionnaire"),
    )
    due_at = forms.SplitDateTimeField(
        label=_label("due_at"),
        required=False,
        widget=AdminSplitDateTime,
        help_text=gettext_lazy("Empty: due now."),
    )

    FIELDSETS = [
        (None, {"fields": ["name", "size", "min_new_share", "new_within_days"]}),
        (gettext_lazy("Strata"), {"fields": ["amount_limits", "count_limits"]}),
        (None, {"fields": ["seed", "questionnaire", "due_at"]}),
    ]

    def add_service_errors(self, exc):
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, errors in exc.message_dict.items():
            self.add_error(key if key in self.fields and key != NON_FIELD_ERRORS else None, errors)


@admin.register(Sample)
class SampleAdmin(admin.ModelAdmin):
    list_display = [
        "name", "created_at", "size", "population", "calls", "seed", "min_new_share", "due_at",
        "created_by",
    ]  # fmt: skip
    list_select_related = ["created_by"]
    search_fields = ["name", "=seed"]
    date_hierarchy = "created_at"
    PARAMETERS = [
        "name", "size", "min_new_share", "new_within_days", "seed", "questionnaire", "due_at",
        "created_by", "created_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": PARAMETERS}),
        (
            gettext_lazy("Result"),
            {"fields": ["population", "picked", "new_picked", "strata_table", "calls"]},
        ),
    ]
    readonly_fields = [
        "name", "size", "min_new_share", "new_within_days", "seed", "questionnaire", "due_at",
        "created_by", "created_at", "population", "picked", "new_picked", "strata_table", "calls",
    ]  # fmt: skip

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("questionnaire", "created_by")
            .annotate(
                num_calls=Count("followups"),
                num_done=Count("followups", filter=Q(followups__status=FollowUpStatus.DONE)),
            )
        )

    # A sample is a record of what was drawn: drawn once, never edited or deleted.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = SampleForm(request.POST)
            if form.is_valid():
                try:
                    sample = services.sample_create(user=request.user, **form.cleaned_data)
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    return self._added(request, sample)
        else:
            form = SampleForm()
        adminform = helpers.AdminForm(form, SampleForm.FIELDSETS, {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Draw a sample"),
            "subtitle": None,
            "adminform": adminform,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + adminform.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    def _added(self, request, sample):
        self.log_addition(request, sample, [{"added": {}}])
        picked = sum(s["picked"] for s in sample.strata)
        self.message_user(
            request,
            _(
                "Sample “%(name)s” drawn with seed %(seed)s: %(picked)s of %(population)s "
                "customers, now in the follow-up queue."
            )
            % {
                "name": sample.name,
                "seed": sample.seed,
                "picked": picked,
                "population": sample.population,
            },
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:callbacks_sample_change", args=[sample.pk]))

    @admin.display(description=gettext_lazy("customers picked"))
    def picked(self, obj):
        return sum(s.get("picked", 0) for s in obj.strata)

    @admin.display(description=gettext_lazy("of which new customers"))
    def new_picked(self, obj):
        return sum(s.get("picked_new", 0) for s in obj.strata)

    @admin.display(description=gettext_lazy("calls (done / all)"), ordering="num_calls")
    def calls(self, obj):
        return format_html(
            '<a href="{}">{} / {}</a>',
            _followups_url(sample__id__exact=obj.pk, status="all"),
            obj.num_done,
            obj.num_calls,
        )

    @admin.display(description=gettext_lazy("strata"))
    def strata_table(self, obj):
        if not obj.strata:
            return "-"
        kinds = dict(CustomerKind.choices)
        headers = [
            _("Customer type"),
            _("Purchase amount (yuan)"),
            _("Orders"),
            _("Population"),
            _("of which new"),
            _("Proportional share"),
            _("Picked"),
            _("of which new"),
        ]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    kinds.get(s.get("kind"), s.get("kind")),
                    s.get("amount"),
                    s.get("frequency"),
                    s.get("population"),
                    s.get("new"),
                    s.get("quota"),
                    s.get("picked"),
                    s.get("picked_new"),
                )
                for s in obj.strata
            ),
        )
        head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
        return format_html(
            '<table class="sd-strata"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
            head,
            rows,
        )


@admin.register(OpinionCategory)
class OpinionCategoryAdmin(admin.ModelAdmin):
    """The categories the written suggestions are sorted into (意见集中度)."""

    list_display = ["name", "keywords", "order", "is_active"]
    list_editable = ["keywords", "order", "is_active"]
    search_fields = ["name", "keywords"]


class CouponUploadForm(forms.Form):
    codes = forms.CharField(
        label=gettext_lazy("Coupon codes, one per line"), widget=forms.Textarea(attrs={"rows": 12})
    )
    batch = forms.CharField(label=gettext_lazy("batch"), max_length=100, required=False)


@admin.register(RewardCoupon)
class RewardCouponAdmin(admin.ModelAdmin):
    """Thank-you coupons (001): uploaded as a list, given one per survey answer when
    SURVEY_REWARD_ENABLED is on; never edited."""

    list_display = ["code", "batch", "uploaded_at", "response", "given_at"]
    list_filter = ["batch", ("response", admin.EmptyFieldListFilter)]
    search_fields = ["code", "batch"]
    list_select_related = ["response"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CouponUploadForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            added = rewards.coupons_upload(
                text=form.cleaned_data["codes"], batch=form.cleaned_data["batch"]
            )
            self.message_user(request, _("%(n)s new coupon code(s) added.") % {"n": added})
            return HttpResponseRedirect(reverse("admin:callbacks_rewardcoupon_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Upload thank-you coupons"),
            "adminform": helpers.AdminForm(form, [(None, {"fields": ["codes", "batch"]})], {}),
            "form": form,
            "add": True,
            "change": False,
            "has_view_permission": True,
            "has_add_permission": True,
            "has_change_permission": False,
            "has_delete_permission": False,
            "has_editable_inline_admin_formsets": False,
            "save_as": False,
            "show_save": True,
            "is_popup": False,
            "has_absolute_url": False,
            "form_url": form_url,
            "original": None,
            "media": self.media + form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "app_label": self.opts.app_label,
        }
        return self.render_change_form(request, context, add=True)
