"""The language customers are served in (004: multilingual service): the public web form, the
survey page and the messages we send them — Chinese, English, Japanese or Korean
(settings.CUSTOMER_LANGUAGES). Staff screens keep settings.LANGUAGES (Chinese and English);
LocaleMiddleware never activates a customer-only language, the public views do, through
`customer_pages`.

A page's language is, in order: the link's `?lang=` (our messages carry it for a customer
whose language is not Chinese; a Chinese link stays short for a one-segment SMS), the choice
made with the page's switch (a cookie; or the staff screens' language cookie), the browser's
Accept-Language, the customer's recorded language when the page knows the customer (the
survey page), and the site's default (Chinese).
"""

import functools

from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

COOKIE_NAME = "customer_language"
COOKIE_MAX_AGE = 365 * 24 * 3600
PARAM = "lang"

# Browser and link spellings of the Chinese we serve (Simplified).
_ALIASES = {"zh": "zh-hans", "zh-cn": "zh-hans", "zh-sg": "zh-hans", "zh-my": "zh-hans"}


def codes():
    return [code for code, _label in settings.CUSTOMER_LANGUAGES]


def choices():
    return list(settings.CUSTOMER_LANGUAGES)


def supported(code):
    """`code` as one of CUSTOMER_LANGUAGES ("ja-JP" → "ja", "zh-CN" → "zh-hans"), else None."""
    code = (code or "").strip().lower().replace("_", "-")
    if not code:
        return None
    code = _ALIASES.get(code, code)
    known = codes()
    if code in known:
        return code
    if code.startswith("zh-hans"):
        return "zh-hans" if "zh-hans" in known else None
    base = code.split("-")[0]
    if base != "zh" and base in known:
        return base
    return None


def from_accept_language(header):
    for code, _quality in parse_accept_lang_header(header or ""):
        found = supported(code)
        if found:
            return found
    return None


def explicit(request):
    """The language the customer asked for: the link's ?lang=, else the page switch's cookie
    (or the staff screens' language cookie, set by Django's set_language)."""
    return (
        supported(request.GET.get(PARAM))
        or supported(request.COOKIES.get(COOKIE_NAME))
        or supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    )


def request_language(request, customer_language=None):
    return (
        explicit(request)
        or from_accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE"))
        or supported(customer_language)
        or supported(settings.LANGUAGE_CODE)
        or codes()[0]
    )


def use(request, language):
    """Serve the rest of this request in `language` (like LocaleMiddleware does, so the
    Content-Language header agrees with the page)."""
    translation.activate(language)
    request.LANGUAGE_CODE = language


def use_for_customer(request, customer_language):
    """Once the page knows whose it is: their recorded language when nothing else chose."""
    use(request, request_language(request, customer_language))


def customer_pages(view):
    """A public view served in the customer's language. A `?lang=` is remembered in a cookie,
    so the pages after it (a redirect, the next request) stay in that language."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        use(request, request_language(request))
        request.customer_language_links = switcher(request)
        response = view(request, *args, **kwargs)
        chosen = supported(request.GET.get(PARAM))
        if chosen and request.COOKIES.get(COOKIE_NAME) != chosen:
            response.set_cookie(
                COOKIE_NAME, chosen, max_age=COOKIE_MAX_AGE, samesite="Lax",
                secure=request.is_secure(), httponly=True,
            )  # fmt: skip
        response.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response

    return wrapped


def switcher(request):
    """The page's language links: [(code, name in that language, url)]; the template leaves
    out the current one."""
    query = request.GET.copy()
    links = []
    for code in codes():
        query[PARAM] = code
        name = translation.get_language_info(code)["name_local"]
        links.append((code, name, f"{request.path}?{query.urlencode()}"))
    return links
