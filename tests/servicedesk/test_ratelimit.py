"""The public pages' rate limiter: atomic under concurrent requests, and failing open (with a
log line) when the cache cannot be reached, so a customer's saved complaint never answers 500."""

import logging
import socket
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory, override_settings

from complaints.models import Case
from servicedesk import ratelimit
from tests.complaints.test_public_form import SUBMIT, form_data


def unreachable_redis_cache():
    """A Redis cache on a port where nothing listens: what the web sees when Redis is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.fixture
def clear_cache(db):
    cache.clear()
    yield
    cache.clear()


def test_the_web_form_works_when_the_cache_is_down(client, db, settings, tmp_path, caplog):
    settings.MEDIA_ROOT = tmp_path
    with (
        override_settings(CACHES=unreachable_redis_cache(), PUBLIC_FORM_RATE_LIMIT="1/h"),
        caplog.at_level(logging.WARNING, logger="servicedesk.ratelimit"),
    ):
        first = client.post(SUBMIT, form_data())
        second = client.post(SUBMIT, form_data(phone="13912345678", subject="发票开错了"))
        invalid = client.post(SUBMIT, form_data(subject=""))
    assert first.status_code == 302 and second.status_code == 302  # open: not limited
    assert invalid.status_code == 200
    assert Case.objects.count() == 2
    assert "cache is unavailable" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_pass_a_limit_of_ten_exactly_ten_times(clear_cache):
    request = RequestFactory().post("/submit/", REMOTE_ADDR="198.51.100.7")
    results, start = [], threading.Barrier(20)

    def one():
        try:
            start.wait()
            results.append(ratelimit.take(request, scope="race", rate="10/h").retry_after)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 20
    assert results.count(0) == 10
    # the refused ones were not counted: giving one slot back lets exactly one more in
    assert ratelimit.take(request, scope="race", rate="10/h").retry_after > 0


def test_a_slot_given_back_is_free_again(clear_cache):
    request = RequestFactory().post("/submit/", REMOTE_ADDR="198.51.100.8")
    first = ratelimit.take(request, scope="back", rate="1/h")
    assert first.retry_after == 0
    assert ratelimit.take(request, scope="back", rate="1/h").retry_after > 0
    ratelimit.give_back(first)
    assert ratelimit.take(request, scope="back", rate="1/h").retry_after == 0
