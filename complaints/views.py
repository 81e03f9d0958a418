"""Public pages: the web form customers use to reach us (在线表单) and its confirmation page.

No login. Everything a customer submits goes through services.case_intake, like every other
channel; this module only parses the form, limits the rate, and renders. The pages speak the
customer's language (Chinese, English, Japanese or Korean: servicedesk.customer_language), and
the language a request is written in becomes the customer's, for our replies and surveys.
"""

import math

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from servicedesk import customer_language, ratelimit

from . import services
from .forms import PublicCaseForm
from .models import Channel

TOKEN_SALT = "complaints.public-form.done"
TOKEN_MAX_AGE = 24 * 3600  # the confirmation link works for a day after submitting

RATE_SCOPE = "complaints:public-form"


def rate_limit():
    """(submissions, seconds) from settings.PUBLIC_FORM_RATE_LIMIT."""
    return ratelimit.parse_rate(settings.PUBLIC_FORM_RATE_LIMIT)


@never_cache
@customer_language.customer_pages
@require_http_methods(["GET", "HEAD", "POST"])
def submit(request):
    if request.method == "POST":
        # The slot is taken before the intake (so racing requests cannot all pass) and given
        # back when nothing was saved: only successful submissions use up the allowance.
        slot = ratelimit.take(request, scope=RATE_SCOPE, rate=settings.PUBLIC_FORM_RATE_LIMIT)
        if slot.retry_after:
            response = render(
                request,
                "complaints/rate_limited.html",
                {"minutes": math.ceil(slot.retry_after / 60)},
                status=429,
            )
            response["Retry-After"] = str(slot.retry_after)
            return response
        form = PublicCaseForm(request.POST, request.FILES)
        result = None
        try:
            if form.is_valid():
                try:
                    data = form.intake_data()
                    data["customer"]["language"] = request.LANGUAGE_CODE
                    result = services.case_intake(channel=Channel.WEB, **data)
                except ValidationError as exc:
                    form.add_service_errors(exc)
        finally:
            if result is None:
                ratelimit.give_back(slot)
        if result is not None:
            token = signing.dumps(
                {"n": result.case.number, "a": int(result.absorbed)}, salt=TOKEN_SALT
            )
            return redirect("complaints:submit_done", token=token)
    else:
        form = PublicCaseForm()
    return render(request, "complaints/submit.html", {"form": form})


@never_cache
@customer_language.customer_pages
@require_http_methods(["GET", "HEAD"])
def submit_done(request, token):
    """The case number, read from a signed, expiring token: nothing here looks a case up,
    so the page cannot be used to probe case numbers."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
        number, absorbed = str(data["n"]), bool(data["a"])
    except (signing.BadSignature, KeyError, TypeError) as exc:
        raise Http404 from exc
    return render(request, "complaints/submit_done.html", {"number": number, "absorbed": absorbed})
