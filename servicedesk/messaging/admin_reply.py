"""The reply box on the case page (公开回复 / 内部备注) and the admin view it posts to."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from complaints import admin_case
from complaints import services as case_services
from complaints.models import Case, State, mask_email, mask_phone

from . import outbound
from .models import OutboundChannel, OutboundMessage


def _can_reply(user, case):
    return user.has_perm("complaints.add_caseevent") and case.state not in (
        State.MERGED,
        State.CANCELLED,
    )


def reply_panel(request, case):
    if not _can_reply(request.user, case):
        return ""
    channel, to, _extra = outbound.conversation(case)
    shown_to = mask_phone(to) if channel == OutboundChannel.SMS else mask_email(to)
    canned = admin_case.canned_replies(request)  # the same list as the progress update's: read once
    replies = list(OutboundMessage.objects.filter(case=case).order_by("-pk")[:20])
    return render_to_string(
        "messaging/reply_box.html",
        {
            "case": case,
            "channel": OutboundChannel(channel).label if channel else "",
            "to": shown_to if channel != OutboundChannel.WECHAT else "",
            "canned": canned,
            "replies": replies,
            "url": reverse("admin:messaging_outboundmessage_reply", args=[case.pk]),
        },
        request=request,
    )


@require_POST
def reply_view(request, pk):
    case = get_object_or_404(Case.objects.visible_to(request.user), pk=pk)
    if not _can_reply(request.user, case):
        raise PermissionDenied
    back = reverse("admin:complaints_case_change", args=[case.pk]) + "#reply"
    try:
        outbound.reply_create(
            case=case,
            user=request.user,
            body=request.POST.get("body", ""),
            public=request.POST.get("kind") == "public",
            expected_version=request.POST.get("expected_version") or None,
        )
    except case_services.CaseChanged as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, outbound.reply_saved_message(request.POST.get("kind")))
    return HttpResponseRedirect(back)


def register_reply_panel():
    if reply_panel not in admin_case.CASE_PAGE_PANELS:
        admin_case.CASE_PAGE_PANELS.append(reply_panel)
