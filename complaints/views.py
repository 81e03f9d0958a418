"""Public pages: the web form customers use to reach us (在线表单) and its confirmation page.

No login. Everything a customer submits goes through services.case_intake, like every other
channel; this module only parses the form, limits the rate, and renders.
"""

import math
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import services
from .forms import PublicCaseForm
from .models import Channel

TOKEN_SALT = "complaints.public-form.done"
TOKEN_MAX_AGE = 24 * 3600  # the confirmation link works for a day after submitting

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_limit():
    """(submissions, seconds) from settings.PUBLIC_FORM_RATE_LIMIT: "10/h", "30/minute" …"""
    count, _, unit = str(settings.PUBLIC_FORM_RATE_LIMIT).partition("/")
    return int(count), _UNITS[(unit.strip() or "h")[0].lower()]


def client_ip(request):
    """The address the rate limit counts. X-Forwarded-For only when a proxy we trust sets it
    (nginx in deploy/ replaces the header, so its first address is the client's)."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR") or "unknown"


def _rate_key(request, period):
    # A fixed window per client address; the cache (database or Redis) is shared by every
    # web process, so the count holds across them.
    window = int(time.time() // period)
    return f"complaints:public-form:{client_ip(request)}:{window}", (window + 1) * period


def _over_limit(request):
    limit, period = rate_limit()
    key, window_end = _rate_key(request, period)
    if cache.get(key, 0) >= limit:
        return max(1, math.ceil(window_end - time.time()))
    return 0


def _count_submission(request):
    _, period = rate_limit()
    key, _ = _rate_key(request, period)
    # get + set rather than incr: the database cache's incr would reset the expiry.
    cache.set(key, cache.get(key, 0) + 1, timeout=period)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def submit(request):
    if request.method == "POST":
        retry_after = _over_limit(request)
        if retry_after:
            response = render(
                request,
                "complaints/rate_limited.html",
                {"minutes": math.ceil(retry_after / 60)},
                status=429,
            )
            response["Retry-After"] = str(retry_after)
            return response
        form = PublicCaseForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = services.case_intake(channel=Channel.WEB, **form.intake_data())
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                _count_submission(request)
                token = signing.dumps(
                    {"n": result.case.number, "a": int(result.absorbed)}, salt=TOKEN_SALT
                )
                return redirect("complaints:submit_done", token=token)
    else:
        form = PublicCaseForm()
    return render(request, "complaints/submit.html", {"form": form})


@never_cache
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
