"""PIPL in the staff workspace: on the customer page, *Anonymise* and *Export everything we
hold* (managers), the unmasked-view log entry; the personal-data access log (managers read
it, nobody edits it)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import privacy
from .admin_common import shows_personal_data
from .models import Customer, PersonalDataLog


class AnonymiseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "E.g. the customer's request of 30 November by phone. Kept in the log."
        ),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand this cannot be undone"), required=True
    )


class CustomerPrivacyMixin:
    """Mixed into CustomerAdmin."""

    change_form_template = "admin/complaints/customer/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/anonymise/", view(self.anonymise_view), name="complaints_customer_anonymise"),
            path("<int:pk>/export/", view(self.subject_export_view), name="complaints_customer_export"),
            *super().get_urls(),
        ]  # fmt: skip

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            user = request.user
            context.update(
                may_anonymise=obj.anonymized_at is None
                and user.has_perm("complaints.anonymise_customer"),
                may_export=user.has_perm("complaints.export_customer_data"),
                anonymise_url=reverse("admin:complaints_customer_anonymise", args=[obj.pk]),
                export_url=reverse("admin:complaints_customer_export", args=[obj.pk]),
            )
            if request.method == "GET" and shows_personal_data(request):
                privacy.log_unmasked_view(user=user, customer=obj, where=_("customer page"))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def anonymise_view(self, request, pk):
        customer = get_object_or_404(Customer, pk=pk)
        if not request.user.has_perm("complaints.anonymise_customer"):
            raise PermissionDenied
        back = reverse("admin:complaints_customer_change", args=[customer.pk])
        form = AnonymiseForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                privacy.customer_anonymise(
                    customer=customer, user=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_error("reason", exc.message_dict.get("reason", exc.messages))
            else:
                self.message_user(
                    request,
                    _("The customer's personal data is anonymised; cases and statistics stay."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Anonymise %(customer)s") % {"customer": customer},
            "form": form,
            "customer": customer,
            "back_url": back,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/complaints/customer/anonymise.html", context)

    def subject_export_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        customer = get_object_or_404(Customer, pk=pk)
        content = privacy.customer_subject_export(customer=customer, user=request.user)
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.zip"'
        response["Cache-Control"] = "no-store"
        return response


@admin.register(PersonalDataLog)
class PersonalDataLogAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "user", "customer", "case", "where"]
    list_filter = ["action", "at"]
    list_select_related = ["user", "customer", "case"]
    search_fields = ["customer__name", "user__username", "case__number", "where"]
    date_hierarchy = "at"
    fields = ["at", "action", "user", "customer", "case", "where", "detail"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
