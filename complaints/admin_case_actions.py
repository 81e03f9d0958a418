"""The case page's actions, each on its own small page: transitions, return steps, progress
updates, attachments, technical requests, waiving the satisfaction follow-up, articles.
"""

import mimetypes

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_fsm import TransitionNotAllowed

from . import services
from .admin_case import CANNED_TARGETS, canned_replies
from .admin_common import INLINE_TYPES, _prime_user
from .admin_forms import (
    AttachmentForm,
    ProgressForm,
    ReturnStepForm,
    TechnicalRequestForm,
    TransitionForm,
    WaiveSatisfactionForm,
)
from .models import Case, ReturnRequest


class CaseActionsMixin:
    """The case actions: extra URLs of CaseAdmin."""

    # --- case actions (their own small pages) --------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/transition/<str:name>/",
                view(self.transition_view),
                name="complaints_case_transition",
            ),
            path(
                "<int:pk>/waive-satisfaction/", view(self.waive_view), name="complaints_case_waive"
            ),
            path("<int:pk>/progress/", view(self.progress_view), name="complaints_case_progress"),
            path("<int:pk>/article/", view(self.article_view), name="complaints_case_article"),
            path(
                "<int:pk>/return/<str:step>/",
                view(self.return_step_view),
                name="complaints_case_return_step",
            ),
            path("<int:pk>/attachments/", view(self.attach_view), name="complaints_case_attach"),
            path(
                "<int:pk>/technical-requests/",
                view(self.technical_request_view),
                name="complaints_case_technical_request",
            ),
            path(
                "<int:pk>/attachments/<int:attachment_pk>/",
                view(self.attachment_view),
                name="complaints_case_attachment",
            ),
            *super().get_urls(),
        ]

    def _case_url(self, case, anchor=""):
        return reverse("admin:complaints_case_change", args=[case.pk]) + anchor

    def _case_for(self, request, pk):
        """The case if this user may see it; 403 if it exists but is not theirs; else 404."""
        _prime_user(request)
        case = self.get_object(request, pk)
        if case is None:
            if Case.objects.filter(pk=pk).exists():
                raise PermissionDenied
            raise Http404
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        return case

    def _action_page(self, request, case, *, title, form, submit, intro="", extra_links=()):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "case": case,
            "case_url": self._case_url(case),
            "form": form,
            "adminform": helpers.AdminForm(
                form, [(None, {"fields": list(form.fields)})], {}, model_admin=self
            ),
            "submit_label": submit,
            "intro": intro,
            "extra_links": extra_links,
            "media": self.media + form.media,
        }
        # Standard replies (标准话术) for the text boxes of this step (solution, result, note).
        targets = [f"id_{name}" for name in form.fields if f"id_{name}" in CANNED_TARGETS]
        if targets:
            context["canned"] = canned_replies(request)
            context["canned_targets"] = targets
        return TemplateResponse(request, "admin/complaints/case/action_form.html", context)

    def transition_view(self, request, pk, name):
        case = self._case_for(request, pk)
        available = {n: (label, inputs) for n, label, inputs in services.available_transitions(
            case, request.user
        )}  # fmt: skip
        if name not in available:
            self.message_user(
                request,
                _(
                    "This step is not available to you while the case is “%(state)s”. "
                    "The case may have changed: it has been reloaded."
                )
                % {"state": case.get_state_display()},
                messages.ERROR,
            )
            return HttpResponseRedirect(self._case_url(case))
        label, inputs = available[name]
        if request.method == "POST":
            form = TransitionForm(request.POST, inputs=inputs)
            if form.is_valid():
                try:
                    updated = services.case_transition(
                        case=case,
                        name=name,
                        user=request.user,
                        expected_version=form.cleaned_data["expected_version"],
                        **form.service_kwargs(),
                    )
                except (PermissionDenied, TransitionNotAllowed, services.CaseChanged) as exc:
                    message = str(exc) or _("You do not have permission for this step.")
                    if isinstance(exc, TransitionNotAllowed):
                        message += " " + _("The case has changed: reload and try again.")
                    self.message_user(request, message, messages.ERROR)
                    return HttpResponseRedirect(self._case_url(case))
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    self.message_user(
                        request,
                        _("%(step)s: done. Case %(number)s is now “%(state)s”.")
                        % {
                            "step": label,
                            "number": updated.number,
                            "state": updated.get_state_display(),
                        },
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._case_url(updated))
        else:
            form = TransitionForm(
                inputs=inputs,
                initial={
                    "expected_version": case.version,
                    "department": case.department_id,
                    "assignee": case.assignee_id,
                    "solution": case.solution,
                    "result": case.result,
                    "cause": case.cause,
                },
            )
        extra = []
        if name == "close" and request.user.has_perm("complaints.waive_satisfaction"):
            extra.append(
                (reverse("admin:complaints_case_waive", args=[case.pk]), _("Waive satisfaction"))
            )
        return self._action_page(
            request,
            case,
            title=f"{label} · {case.number}",
            form=form,
            submit=label,
            extra_links=extra,
        )

    def return_step_view(self, request, pk, step):
        case = self._case_for(request, pk)
        rr = ReturnRequest.objects.filter(case=case).first()
        available = {
            n: (label, inputs)
            for n, label, inputs in (
                services.available_return_steps(rr, request.user) if rr else []
            )
        }
        if step not in available:
            self.message_user(
                request,
                _("This return / exchange step is not available now: the case has been reloaded."),
                messages.ERROR,
            )
            return HttpResponseRedirect(self._case_url(case, "#return"))
        label, inputs = available[step]
        if request.method == "POST":
            form = ReturnStepForm(request.POST, inputs=inputs)
            if form.is_valid():
                try:
                    services.return_request_step(
                        case=case,
                        step=step,
                        user=request.user,
                        expected_version=form.cleaned_data["expected_version"],
                        **form.service_kwargs(),
                    )
                except (PermissionDenied, TransitionNotAllowed, services.CaseChanged) as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                    return HttpResponseRedirect(self._case_url(case, "#return"))
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    self.message_user(
                        request, _("%(step)s: done.") % {"step": label}, messages.SUCCESS
                    )
                    return HttpResponseRedirect(self._case_url(case, "#return"))
        else:
            form = ReturnStepForm(inputs=inputs, initial={"expected_version": case.version})
        return self._action_page(
            request, case, title=f"{label} · {case.number}", form=form, submit=label
        )

    def article_view(self, request, pk):
        case = self._case_for(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(self._case_url(case, "#suggestions"))
        try:
            article = services.case_create_article(case=case, user=request.user)
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(
                request,
                " ".join(exc.messages) if hasattr(exc, "messages") else str(exc),
                messages.ERROR,
            )
            return HttpResponseRedirect(self._case_url(case, "#suggestions"))
        self.message_user(
            request,
            _("Draft article written from case %(number)s: check and complete it.")
            % {"number": case.number},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:knowledge_article_change", args=[article.pk]))

    def waive_view(self, request, pk):
        case = self._case_for(request, pk)
        form = WaiveSatisfactionForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                services.case_waive_satisfaction(
                    case=case, user=request.user, reason=form.cleaned_data["reason"]
                )
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(self._case_url(case))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                self.message_user(
                    request,
                    _("Satisfaction follow-up waived: the case can be closed now."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._case_url(case))
        return self._action_page(
            request,
            case,
            title=_("Waive satisfaction · %(number)s") % {"number": case.number},
            form=form,
            submit=_("Waive satisfaction"),
            intro=_("The case may then close without the customer's satisfaction feedback."),
        )

    def progress_view(self, request, pk):
        case = self._case_for(request, pk)
        if not request.user.has_perm("complaints.add_caseevent"):
            raise PermissionDenied
        if request.method != "POST":
            form = ProgressForm(initial={"expected_version": case.version})
        else:
            form = ProgressForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                sets_times = d["next_contact_at"] or d["expected_resolution_at"]
                try:
                    services.case_add_event(
                        case=case,
                        user=request.user,
                        message=d["message"],
                        kind=d["kind"],
                        customer_notified=d["customer_notified"],
                        next_contact_at=d["next_contact_at"],
                        expected_resolution_at=d["expected_resolution_at"],
                        # Appending never conflicts; changing promised times over
                        # somebody else's change does.
                        expected_version=d["expected_version"] if sets_times else None,
                    )
                except services.CaseChanged as exc:
                    # Keep what was typed; a second submit applies it over the new version.
                    data = request.POST.copy()
                    data["expected_version"] = exc.case.version
                    form = ProgressForm(data)
                    form.is_valid()
                    form.add_error(None, str(exc))
                except PermissionDenied as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                    return HttpResponseRedirect(self._case_url(case))
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    self.message_user(request, _("Added to the timeline."), messages.SUCCESS)
                    return HttpResponseRedirect(self._case_url(case, "#timeline"))
        return self._action_page(
            request,
            case,
            title=_("Progress update · %(number)s") % {"number": case.number},
            form=form,
            submit=_("Add to the timeline"),
        )

    def attach_view(self, request, pk):
        case = self._case_for(request, pk)
        if not request.user.has_perm("complaints.add_attachment"):
            raise PermissionDenied
        form = AttachmentForm(request.POST, request.FILES) if request.method == "POST" else None
        if form is not None and form.is_valid():
            files = form.cleaned_data["files"]
            try:
                with transaction.atomic():
                    for f in files:
                        services.case_add_attachment(
                            case=case,
                            file=f,
                            user=request.user,
                            description=form.cleaned_data["description"],
                        )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                self.message_user(
                    request,
                    ngettext("%(count)d file attached.", "%(count)d files attached.", len(files))
                    % {"count": len(files)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._case_url(case, "#attachments"))
        return self._action_page(
            request,
            case,
            title=_("Attach evidence · %(number)s") % {"number": case.number},
            form=form or AttachmentForm(),
            submit=_("Upload"),
        )

    def technical_request_view(self, request, pk):
        """Ask another department for help: services.technical_request_create."""
        case = self._case_for(request, pk)
        if not request.user.has_perm("complaints.add_technicalrequest"):
            raise PermissionDenied
        form = TechnicalRequestForm(
            request.POST if request.method == "POST" else None,
            exclude_department=case.department_id,
        )
        if form.is_bound and form.is_valid():
            try:
                tr = services.technical_request_create(
                    case=case,
                    department=form.cleaned_data["department"],
                    question=form.cleaned_data["question"],
                    user=request.user,
                )
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(self._case_url(case, "#technical"))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                self.message_user(
                    request,
                    _("%(dept)s has been asked; the answer is due by %(due)s.")
                    % {
                        "dept": tr.department,
                        "due": timezone.localtime(tr.due_at).strftime("%Y-%m-%d %H:%M"),
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._case_url(case, "#technical"))
        return self._action_page(
            request,
            case,
            title=_("Ask another department · %(number)s") % {"number": case.number},
            form=form,
            submit=_("Ask for help"),
        )

    def attachment_view(self, request, pk, attachment_pk):
        """Evidence is served only to staff who may see the case, never from a public URL."""
        case = self._case_for(request, pk)
        attachment = get_object_or_404(case.attachments, pk=attachment_pk)
        content_type = mimetypes.guess_type(attachment.original_name)[0] or ""
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        return FileResponse(
            handle,
            as_attachment=not content_type.startswith(INLINE_TYPES),
            filename=attachment.original_name,
        )
