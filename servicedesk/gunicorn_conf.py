"""gunicorn settings for the web process: `gunicorn servicedesk.wsgi:application -c
python:servicedesk.gunicorn_conf` (the Procfile, systemd unit, Dockerfile and compose file
all do). Command-line options (--bind, --workers) override these.

The application is loaded ONCE, in the master (`preload_app`), and the jieba dictionary
with it; workers are forked from that master and share those pages copy-on-write instead of
each importing Django and loading the dictionary again (≈ 80 MB each). `gc.freeze()` keeps
the collector from touching — and so copying — the shared objects in every worker.

Each worker collects its youngest generation every 5,000 new objects instead of Python's 700:
an API create makes ~240 that outlive it for a moment, so the default ran a collection every
third request (3 % of a create's time; 1.5 % with this threshold).

A sync worker is free for its next request as soon as an answer is sent (post_request
below). gunicorn 27 closes each connection "gracefully" (RFC 9112 §9.6): FIN, then it reads
on — up to 2 s — until the client closes its side, so that unread request bytes cannot make
the kernel answer with a reset that cuts the end of the answer. A sync worker serves one
connection at a time, so meanwhile the next request waits: 0.1 ms per request with the client
on the same host (wrk in bench/scale_write.py: 2 % of an API create's time), a whole network
round trip for a client that reads the answer and closes late. When the request was read to
its end and the client sent nothing more, there is nothing a close could reset: the worker
closes at once. Otherwise (a body the application did not read, a pipelined request)
gunicorn's own close runs.

The access log is gunicorn's `-` (standard output) unless `GUNICORN_ACCESS_LOG` says
otherwise; empty turns it off (behind nginx, which logs every request with the client's
address).
"""

import gc
import os
import socket
import ssl

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None


def when_ready(server):
    """In the master, after the application is loaded and before any worker is forked."""
    from django.db import connections

    from knowledge.text import tokenize

    tokenize("预热分词词典")  # loads jieba's dictionary here, once, for every worker
    connections.close_all()  # no database socket may be shared by the forked workers
    gc.freeze()


def post_fork(server, worker):
    """In each worker, right after the fork."""
    gc.set_threshold(5000, 10, 10)


def post_request(worker, req, environ, resp):
    """In the worker, after each request: a sync worker's finished connection is closed at
    once when nothing of the client's is left unread (the module's docstring)."""
    from gunicorn.workers.sync import SyncWorker

    if isinstance(worker, SyncWorker) and resp is not None and resp.headers_sent:
        close_if_read_to_the_end(req, resp.sock)


def close_if_read_to_the_end(req, sock):
    """Close `sock` now if the request `req` was read to its end and the client sent nothing
    after it; True if closed. Otherwise leave it (open, as it was) to gunicorn's own close."""
    from gunicorn.http.body import LengthReader

    reader = getattr(getattr(req, "body", None), "reader", None)
    if not isinstance(reader, LengthReader) or reader.length:
        return False  # a chunked body, or one the application did not read to its end
    if isinstance(sock, ssl.SSLSocket):
        return False  # TLS has its own closing exchange: gunicorn's close
    timeout = sock.gettimeout()
    try:
        sock.setblocking(False)
        try:
            more = sock.recv(1, socket.MSG_PEEK)  # b"": the client has closed its side
        except BlockingIOError:
            more = b""  # nothing sent after the request
        if not more:
            sock.close()
            return True
        sock.settimeout(timeout)
    except OSError:
        pass  # a broken connection: gunicorn's close deals with it
    return False
