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
"""

import gc
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
preload_app = True
accesslog = "-"


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
