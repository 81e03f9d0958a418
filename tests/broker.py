"""The broker as the web sees it when Redis is down: a real Redis URL where nothing listens."""

import contextlib

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

    reset_pools()
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    app.conf.broker_transport_options = {"socket_connect_timeout": 1}
    try:
        yield
    finally:
        reset_pools()
        app.conf.broker_url, app.conf.broker_transport_options = saved
