"""Hardening that a user (or an attacker) notices: staff logins are throttled and locked out
(django-axes), every page carries a Content-Security-Policy that allows no inline script and
none of our templates needs one, and the API schema and docs are for authenticated users."""

import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

ROOT = Path(__file__).resolve().parents[2]
LOGIN = reverse("admin:login")


@pytest.fixture(autouse=True)
def _clean_cache(db):
    cache.clear()
    yield
    cache.clear()


def login(client, username, password, ip="203.0.113.7"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


# --- login throttling ----------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_for_that_address(agent, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "agent", "wrong").status_code == 200  # the form again
    locked = login(client, "agent", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert 'id="sd-locked-out"' in page and "已被暂时锁定" in page
    # Even the right password is refused now …
    right = login(Client(), "agent", "pw-for-tests")
    assert right.status_code == 429
    assert "_auth_user_id" not in Client().session
    # … from that address only: a colleague behind another address logs in.
    assert login(Client(), "agent", "pw-for-tests", ip="198.51.100.9").status_code == 302


def test_a_success_resets_the_count(agent, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "agent", "wrong")
    assert login(client, "agent", "pw-for-tests").status_code == 302
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(Client(), "agent", "wrong").status_code == 200
    assert login(Client(), "agent", "pw-for-tests").status_code == 302


def test_the_lockout_follows_the_rate_limits_client_address(agent, settings):
    # Behind the proxy the address is X-Forwarded-For's (the same function as the rate limits).
    settings.TRUST_X_FORWARDED_FOR = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post(
            LOGIN,
            {"username": "agent", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.50",
        )
    other = Client().post(
        LOGIN,
        {"username": "agent", "password": "pw-for-tests", "next": "/admin/"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.51",
    )
    assert other.status_code == 302


def test_a_login_without_a_readable_address_is_not_an_error(agent, settings):
    # A forged header that is no address, or no REMOTE_ADDR at all (a unix socket, the test
    # client's force_login): the login goes through and is recorded without an address — on
    # PostgreSQL the attempt log refuses anything but an IP, which used to be a 500.
    from axes.models import AccessLog

    settings.TRUST_X_FORWARDED_FOR = True
    response = Client().post(
        LOGIN,
        {"username": "agent", "password": "pw-for-tests", "next": "/admin/"},
        HTTP_X_FORWARDED_FOR="unknown, 10.0.0.1",
    )
    assert response.status_code == 302
    client = Client()
    client.force_login(agent)
    assert client.get("/admin/").status_code == 200
    assert AccessLog.objects.filter(username="agent", ip_address__isnull=True).count() == 2


# --- Content-Security-Policy ---------------------------------------------------------------


def csp(response):
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/submit/", LOGIN, "/admin/", "/api/v1/docs/"])
def test_every_page_carries_a_policy_without_inline_script(admin_client, url):
    policy = csp(admin_client.get(url))
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src-elem"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] + policy["default-src"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)


def our_templates():
    for app in ("servicedesk", "complaints", "callbacks", "knowledge"):
        yield from (ROOT / app).rglob("templates/**/*.html")


def test_no_template_has_inline_script_handlers_or_style_elements():
    offenders = []
    for path in our_templates():
        text = path.read_text()
        for name, pattern in [
            ("<script>", INLINE_SCRIPT),
            ("on…=", INLINE_HANDLER),
            ("<style>", STYLE_ELEMENT),
        ]:
            if pattern.search(text):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_rendered_pages_have_no_inline_script(admin_client, client):
    pages = [
        client.get("/submit/"),
        client.get(LOGIN),
        admin_client.get("/admin/"),
        admin_client.get(reverse("admin:complaints_case_add")),
        admin_client.get(reverse("admin:complaints_case_changelist")),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert not INLINE_SCRIPT.search(html), page.request["PATH_INFO"]
        assert not INLINE_HANDLER.search(html.replace("\n", " ")), page.request["PATH_INFO"]


# --- the API schema and docs ---------------------------------------------------------------


def test_the_schema_and_docs_are_for_authenticated_users(agent):
    anonymous = Client()
    assert anonymous.get("/api/v1/schema/").status_code == 401
    assert anonymous.get("/api/v1/docs/").status_code == 401
    token = Token.objects.create(user=agent)
    with_token = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert with_token.get("/api/v1/schema/").status_code == 200
    docs = with_token.get("/api/v1/docs/")
    assert docs.status_code == 200
    # Served by the app itself: no CDN.
    assert "cdn" not in docs.content.decode().lower()


# --- deploy examples: gunicorn only behind the proxy (TRUST_X_FORWARDED_FOR relies on it) ----


def test_the_deploy_examples_bind_gunicorn_to_localhost():
    deploy = ROOT / "deploy"
    procfile = (deploy / "Procfile").read_text()
    assert "--bind ${WEB_BIND:-127.0.0.1}:" in procfile
    assert "--bind 127.0.0.1:8000" in (deploy / "systemd" / "servicedesk-web.service").read_text()
    # In the container gunicorn listens on all of the container's interfaces; the host
    # publishes the port on 127.0.0.1 only.
    compose = (deploy / "docker-compose.yml").read_text()
    assert '"127.0.0.1:8000:8000"' in compose
    readme = (deploy / "README.md").read_text()
    assert "Safe only behind a proxy" in readme


def test_an_api_answer_carries_the_strict_policy_for_json(admin_client):
    """Nothing may load from a JSON answer or frame it; the pages keep the site's policy."""
    answer = admin_client.get("/api/v1/cases/")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/json")
    assert csp(answer) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}
    assert csp(admin_client.get("/admin/"))["script-src"] == ["'self'"]
