"""The web process's sync worker lets go of a connection as soon as its answer is sent when
the client left nothing unread, and closes gracefully (gunicorn's own close) when it did
(servicedesk/gunicorn_conf.py, post_request). Real gunicorn, real sockets."""

import json
import socket

import pytest
from django.db import connection

from servicedesk.staff import roles
from tests.servicedesk.test_scale_out import (  # noqa: F401 - processes is a fixture
    process_env,
    processes,
    start_web,
    wait_for_port,
)


@pytest.fixture
def web(processes):  # noqa: F811 - the fixture imported above
    """A gunicorn with one sync worker, as deployed (servicedesk.gunicorn_conf)."""
    if connection.vendor != "postgresql":
        pytest.skip("the web process needs the database the test writes to (PostgreSQL)")
    port, proc = start_web(processes, process_env(GUNICORN_ACCESS_LOG=""))
    assert wait_for_port(port, proc)
    return port


def request(port, head, body=b""):
    """Send a raw HTTP/1.1 request; the client socket and the whole answer (read to EOF)."""
    client = socket.create_connection(("127.0.0.1", port), timeout=30)
    client.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
    answer = b""
    while chunk := client.recv(65536):
        answer += chunk
    return client, answer


def json_body(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower(), head
    return head.split(b"\r\n")[0].decode(), json.loads(body)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_worker_lets_go_of_a_connection_once_it_has_answered(web, make_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=make_user("desk", role=roles.AGENT)).key
    client, answer = request(
        web, f"GET /api/v1/cases/ HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Token {token}\n"
    )
    with client:
        status, data = json_body(answer)
        assert status == "HTTP/1.1 200 OK"
        assert data["results"] == []
        # The client has the whole answer and keeps its side open. The worker has already
        # closed the connection (it is free for the next request): what the client sends now
        # is refused by the kernel (a reset; the next send fails), not read and waited on by
        # the worker — gunicorn's own close would read every byte and wait up to 2 s for the
        # client to close, and all these sends would go through.
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            for _ in range(100):
                client.sendall(b"x")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_answer_given_before_the_body_was_read_arrives_whole(web):
    # Refused before its body is read (no such token): the body waits unread in the socket.
    # Closing then would make the kernel reset the connection and could cut the answer;
    # gunicorn's graceful close runs instead and the client reads the whole refusal.
    body = json.dumps({"subject": "很长的描述" * 3000}).encode()
    client, answer = request(
        web, "POST /api/v1/cases/ HTTP/1.1\nHost: 127.0.0.1\nAuthorization: Token nosuchtoken\n"
        f"Content-Type: application/json\nContent-Length: {len(body)}\n", body,
    )  # fmt: skip
    with client:
        status, data = json_body(answer)
        assert status == "HTTP/1.1 401 Unauthorized"
        assert "detail" in data
