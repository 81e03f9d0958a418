"""The fast intake form (the case admin's add view). Cases are only ever created by
services.case_intake.
"""

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from . import lookup, services
from .admin_forms import IntakeForm
from .models import Channel


class CaseIntakeMixin:
    """Quick intake: the add view of CaseAdmin, and the customer lookup it asks while the
    phone (member number, e-mail) is typed."""

    def get_urls(self):
        return [
            path(
                "intake/lookup/",
                self.admin_site.admin_view(self.intake_lookup_view),
                name="complaints_case_intake_lookup",
            ),
            *super().get_urls(),
        ]

    def intake_lookup_view(self, request):
        """JSON for complaints/static/complaints/intake.js: the known customer and their open
        cases (lookup.intake_lookup). Never cached (admin_view's never_cache)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        body = lookup.intake_lookup(
            phone=request.GET.get("phone", "")[:32],
            member_no=request.GET.get("member_no", "")[:40],
            email=request.GET.get("email", "")[:254],
            user=request.user,
        )
        for case in body.get("open_cases", []):
            case["url"] = reverse("admin:complaints_case_change", args=[case.pop("pk")])
        if body["found"]:
            body["customer"]["url"] = reverse(
                "admin:complaints_customer_change", args=[body["customer"]["id"]]
            )
        return JsonResponse(body)

    def add_view(self, request, form_url="", extra_context=None):
        """The fast intake form. Cases are only ever created by services.case_intake."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = IntakeForm(request.POST, request.FILES, user=request.user)
            if form.is_valid():
                try:
                    result = services.case_intake(user=request.user, **form.intake_kwargs())
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    return self._intake_done(request, result)
        else:
            channel = request.GET.get("channel")
            form = IntakeForm(
                initial={"channel": channel} if channel in Channel.values else None,
                user=request.user,
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Register a case"),
            "opts": self.opts,
            "adminform": helpers.AdminForm(form, IntakeForm.FIELDSETS, {}, model_admin=self),
            "form": form,
            "errors": form.errors,
            "media": self.media + form.media,
            "lookup_url": reverse("admin:complaints_case_intake_lookup"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/complaints/case/intake.html", context)

    def _intake_done(self, request, result):
        case = result.case
        if result.absorbed:
            self.message_user(
                request,
                _(
                    "%(name)s already has an open case about this: the contact was added to "
                    "case %(number)s instead of opening a new one."
                )
                % {"name": case.customer.name, "number": case.number},
                messages.WARNING,
            )
        else:
            parts = [_("Case %(number)s registered.") % {"number": case.number}]
            if case.assignee_id:
                parts.append(
                    _("Assigned to %(dept)s / %(user)s.")
                    % {"dept": case.department, "user": case.assignee}
                )
            elif case.department_id:
                parts.append(_("Routed to %(dept)s.") % {"dept": case.department})
            else:
                parts.append(_("No routing rule matched: it waits in the unassigned queue."))
            if case.urgency_reason:
                parts.append(case.urgency_reason)
            self.message_user(request, " ".join(parts), messages.SUCCESS)
        if "_addanother" in request.POST:
            return HttpResponseRedirect(request.path)
        if case.is_visible_to(request.user):
            return HttpResponseRedirect(self._case_url(case))
        return HttpResponseRedirect(reverse("admin:complaints_case_changelist"))

    # --- the case page (the change view) -------------------------------------------------
