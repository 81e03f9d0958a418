import os

from django.core.wsgi import get_wsgi_application
from django.utils import timezone

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
application = get_wsgi_application()

# The desk's time zone (settings.TIME_ZONE) made the active one of the process — the zone
# Django uses anyway when none is active. Django asks for the active zone on every date it
# converts, and with none active asgiref's lookup raises and catches an AttributeError each
# time (8 times per API create, 1 % of its CPU). gunicorn loads this module in its master,
# so every worker starts with it; timezone.override() still changes it for a block.
timezone.activate(timezone.get_default_timezone())
