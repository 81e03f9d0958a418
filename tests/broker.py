"""The broker as the web sees it when Redis is down: a real Redis URL where nothing listens."""

import contextlib
import os

from tests.smtp_sink import free_port


@contextlib.contextmanager
def broker_unreachable():
    """Point the Celery app at a port where nothing listens for the duration (publishing then
    fails the way it does when Redis is stopped), then back at the run's broker."""
    from servicedesk.celery import app

    saved = app.conf.broker_url, app.conf.broker_transport_options

    def reset_pools():
        # kombu keeps its pools per connection URL: dropping the app's references is enough
        # (closing them would close the run's real pool for the tests after this one).
        app._pool = None
        app.amqp._producer_pool = None

    saved_env = os.environ.get("CELERY_BROKER_URL")
    dead = f"redis://127.0.0.1:{free_port()}/0"
    reset_pools()
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    os.environ["CELERY_BROKER_URL"] = dead
    app.conf.broker_url = dead
    app.conf.broker_transport_options = {"socket_connect_timeout": 1}
    try:
        yield
    finally:
        reset_pools()
        app.conf.broker_url, app.conf.broker_transport_options = saved
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
