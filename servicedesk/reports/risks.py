"""Filing a risk into the register from a case (004): any staff member who sees the case
writes the risk, its cause and its consequence; it waits "to assess" for a manager, who is
notified, and the case's timeline says so."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints.models import Case, CaseEvent, EventKind
from servicedesk.staff import roles
from servicedesk.staff.models import User
from servicedesk.staff.services import notify

from .models import Risk


class RiskFromCaseForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("risk"), max_length=200)
    cause = forms.CharField(label=gettext_lazy("cause"), widget=forms.Textarea(attrs={"rows": 3}))
    consequence = forms.CharField(
        label=gettext_lazy("consequence"), widget=forms.Textarea(attrs={"rows": 3})
    )


def risk_file_from_case(*, case, user, title, cause, consequence):
    """A new risk "to assess", linked to `case`; the managers are notified."""
    if not case.is_visible_to(user):
        raise PermissionDenied(_("You do not have permission for this step on this case."))
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        risk = Risk.objects.create(
            title=title.strip(),
            cause=cause.strip(),
            consequence=consequence.strip(),
            status=Risk.Status.TO_ASSESS,
            case=locked,
            reported_by=user,
        )
        CaseEvent.objects.create(
            case=locked,
            kind=EventKind.NOTE,
            message=_("Risk filed in the register: %(title)s") % {"title": risk.title},
            author=user,
        )
        notify(
            recipients=list(User.objects.in_role(roles.MANAGER)),
            event_key=f"reports.risk_filed:{risk.pk}",
            subject=_("Risk to assess: %(title)s") % {"title": risk.title},
            body=_(
                "Filed from case %(number)s by %(user)s.\n\nCause: %(cause)s\nConsequence: %(consequence)s"
            )
            % {
                "number": locked.number,
                "user": user,
                "cause": risk.cause,
                "consequence": risk.consequence,
            },
            link=reverse("admin:reports_risk_change", args=[risk.pk]),
        )
    return risk
