"""Settings for the service desk: one module, every knob an environment variable.

Every variable read here is listed in `.env.example` and in deploy/README.md.
Without any variable set the project runs on an embedded default: SQLite and a
filesystem Celery broker under `var/`, no external service needed.
"""

import datetime
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for local development)."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public URL of the site, used in links sent by e-mail and SMS (surveys, notifications).
# In development it follows WEB_PORT, the port `make run` serves on.
WEB_PORT = env.int("WEB_PORT", default=8000)
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{WEB_PORT}" if DEBUG else "").rstrip("/")
if not SITE_URL:
    raise ImproperlyConfigured(
        "SITE_URL must be set when DEBUG is off: links in e-mails and SMS (surveys) point there."
    )

INSTALLED_APPS = [
    "servicedesk.admin_site.ServiceDeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    "servicedesk.staff",
    "servicedesk.calendar",
    "servicedesk.rota",
    "knowledge",
    "complaints",
    "callbacks",
    "servicedesk.workforce",
    "servicedesk.reports",
    "servicedesk.idempotency",
    "servicedesk.messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "servicedesk.csp.PolicyMiddleware",  # django-csp's, with a fixed policy for JSON answers
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "servicedesk" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "servicedesk.calendar.context_processors.calendar_warning",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # web, worker and scheduler share one file: WAL lets readers run beside the writer,
    # IMMEDIATE takes the write lock up front so two writers wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    # Tests use a file too, not shared-cache memory: concurrent threads (a real worker, racing
    # intakes) then lock the way production SQLite does instead of failing at once.
    # One file per test process, so parallel runs don't share it; removed when the run ends.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        VAR_DIR / f"test-{os.getpid()}.sqlite3"
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend with a health check that looks at the socket before it asks the
        # server (servicedesk/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "servicedesk.postgresql"
        # Memory per sort or bitmap of this app's connections (PostgreSQL's default is 4 MB).
        # A search's bitmap of the cases a user may see (a department's 200,000 at 1M cases)
        # stays exact in 16 MB; in 4 MB it turns lossy and every row of its pages is
        # re-checked (the capped count of a common word: 100 ms instead of 46 ms).
        work_mem = env.str("DATABASE_WORK_MEM", default="16MB")
        # No parallel workers for this app's queries: on a few cores the planner's parallel
        # plan for a list page (walk the newest cases until 50 match) spends more starting its
        # two workers than the walk takes (a common search word's page: 21 → 8 ms at 1M).
        parallel = env.str("DATABASE_PARALLEL_WORKERS", default="0")
        settings_sql = [
            f"-c {name}={value}"
            for name, value in [
                ("work_mem", work_mem),
                ("max_parallel_workers_per_gather", parallel),
            ]
            if value
        ]
        if settings_sql:
            options = DATABASES["default"].setdefault("OPTIONS", {})
            options["options"] = " ".join([options.get("options", ""), *settings_sql]).strip()
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Intake's and API sign-in's statements are prepared once per connection
# (servicedesk/prepared.py).
# Turn off behind a pooler that does not keep prepared statements (PgBouncer before 1.21 in
# transaction mode).
DATABASE_PREPARED = env.bool("DATABASE_PREPARED", default=True)
# Seconds a web process may keep an API token it checked (with its person and permissions):
# forgotten at once when PostgreSQL notifies a change (servicedesk/staff/token_cache.py); 0
# behind a pooler in transaction mode, which does not deliver notifications. PostgreSQL only.
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="servicedesk"),
            # Fail fast when Redis is down: the rate limiter then lets requests through.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # The database cache is shared by every process of `make run` (rate limits need that);
    # created by `manage.py createcachetable`, which `make run` and migrations handle.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "servicedesk_cache",
        }
    }

# --- Auth -----------------------------------------------------------------------
AUTH_USER_MODEL = "staff.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # Permissions in one query (servicedesk/staff/backends.py); logs nobody in.
    "servicedesk.staff.backends.PermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Login throttling (django-axes) -----------------------------------------------------
# Staff logins (the admin, and any API login through Django's authenticate()): after this many
# failed passwords for one username from one address, that pair is locked out for
# AXES_COOLOFF_MINUTES (answered with 429 and a page saying so). By username *and* address:
# a whole call centre behind one NAT address is not locked out by one colleague's typos.
# A success resets the count. Unlock early: `manage.py axes_reset_username <name>`.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The same client address as the rate limits (X-Forwarded-For only when TRUST_X_FORWARDED_FOR).
AXES_CLIENT_IP_CALLABLE = "servicedesk.ratelimit.axes_client_ip"
# No admin pages for the attempts (they would be English-only screens); the commands
# axes_list_attempts / axes_reset_username / axes_reset do the job.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
# Customers are served in more languages than staff (004: multilingual service): the public
# form, the survey page and the messages sent to customers. Activated only there
# (servicedesk/customer_language.py); staff screens keep LANGUAGES.
CUSTOMER_LANGUAGES = [
    ("zh-hans", _("Simplified Chinese")), ("en", _("English")), ("ja", _("Japanese")),
    ("ko", _("Korean")),
]  # fmt: skip
LOCALE_PATHS = [BASE_DIR / "servicedesk" / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------
STATIC_URL = "static/"
# The project's own files (the admin's base styles, the language menu's script); each app's
# are under <app>/static/.
STATICFILES_DIRS = [BASE_DIR / "servicedesk" / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploads larger than this are rejected before they reach a form (attachments have their own,
# smaller per-file limit).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# --- Cases ----------------------------------------------------------------------
# A new contact from a customer with an open case whose subject is at least this similar
# (0..1), received within the window, is added to that case instead of opening a new one.
CASE_DEDUP_WINDOW_DAYS = env.int("CASE_DEDUP_WINDOW_DAYS", default=7)
# How long a process trusts the intake rules and plans it holds before asking the shared cache
# whether another process changed them (complaints/intake.py); the process that saves a change
# drops its copy at once.
INTAKE_RULES_RECHECK_SECONDS = env.float("INTAKE_RULES_RECHECK_SECONDS", default=1.0)
CASE_DEDUP_SIMILARITY = env.float("CASE_DEDUP_SIMILARITY", default=0.5)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_MB", default=10) * 1024 * 1024
# Similar resolved cases are picked ahead for working cases by the every-minute sweep
# (complaints.similar_store): at most this many cases per run, picked again after this long.
SIMILAR_CASES_BATCH = env.int("SIMILAR_CASES_BATCH", default=200)
SIMILAR_CASES_REFRESH_HOURS = env.float("SIMILAR_CASES_REFRESH_HOURS", default=24)

# --- Deadlines and escalation ----------------------------------------------------
# Business hours of a working day (working-day deadlines start and end inside them).
BUSINESS_DAY_START = env.str("BUSINESS_DAY_START", default="09:00")
BUSINESS_DAY_END = env.str("BUSINESS_DAY_END", default="18:00")
# A breached deadline escalates to the department's supervisors at once (level 1) and, if
# still unmet this many hours later, to the managers (level 2).
ESCALATION_LEVEL2_AFTER_HOURS = env.float("ESCALATION_LEVEL2_AFTER_HOURS", default=4)
# The cases of someone on leave are offered to their backup (B角) this many hours into the
# absence (servicedesk.workforce.backup).
BACKUP_OFFER_AFTER_HOURS = env.float("BACKUP_OFFER_AFTER_HOURS", default=2)
# Cases handled per escalation sweep batch (the sweep loops until none is due).
ESCALATION_BATCH_SIZE = env.int("ESCALATION_BATCH_SIZE", default=500)
# On PostgreSQL cases escalate in set-based SQL: this many per statement.
ESCALATION_SQL_BATCH_SIZE = env.int("ESCALATION_SQL_BATCH_SIZE", default=100000)
# A person told of more escalations than this in one sweep gets one digest instead.
ESCALATION_DIGEST_OVER = env.int("ESCALATION_DIGEST_OVER", default=20)

# --- Contingency plans and personal data (issue 16) -------------------------------
# Staff who have not acknowledged a published plan revision are reminded after this many
# working days.
PLAN_ACK_REMIND_AFTER_DAYS = env.int("PLAN_ACK_REMIND_AFTER_DAYS", default=3)
# PIPL retention: a customer whose cases have all ended and not changed for this many days is
# anonymised by the nightly task (0 turns it off).
PIPL_RETENTION_DAYS = env.int("PIPL_RETENTION_DAYS", default=1095)
# 004: return instructions sent to the customer: where the goods go, and within how many days.
RETURN_ADDRESS = env.str("RETURN_ADDRESS", default="")
RETURN_SHIP_WITHIN_DAYS = env.int("RETURN_SHIP_WITHIN_DAYS", default=7)
# 001: a thank-you coupon (from the uploaded list) for answering a survey. Off by default.
SURVEY_REWARD_ENABLED = env.bool("SURVEY_REWARD_ENABLED", default=False)

# --- Follow-ups and satisfaction surveys ------------------------------------------
# A survey goes out no sooner than this many hours after the case is resolved, inside the
# plan's follow-up window (its satisfaction_followup stage; this many hours when the plan
# has none), and only between these local times of day.
SURVEY_DELAY_HOURS = env.float("SURVEY_DELAY_HOURS", default=2)
SURVEY_WINDOW_HOURS = env.float("SURVEY_WINDOW_HOURS", default=72)
SURVEY_SEND_FROM = env.str("SURVEY_SEND_FROM", default="09:00")
SURVEY_SEND_UNTIL = env.str("SURVEY_SEND_UNTIL", default="20:00")
# One reminder this many hours after sending, if unanswered; the link works this many days.
SURVEY_REMINDER_AFTER_HOURS = env.float("SURVEY_REMINDER_AFTER_HOURS", default=24)
SURVEY_LINK_VALID_DAYS = env.int("SURVEY_LINK_VALID_DAYS", default=7)
# Sending tries before a survey is handed to the callback queue as a phone call.
SURVEY_SEND_ATTEMPTS = env.int("SURVEY_SEND_ATTEMPTS", default=3)
# Surveys handled per dispatch batch (the sweep loops until none is due).
SURVEY_BATCH_SIZE = env.int("SURVEY_BATCH_SIZE", default=500)
# Survey page submissions per client address, e.g. "20/h".
SURVEY_RATE_LIMIT = env.str("SURVEY_RATE_LIMIT", default="20/h")
# How survey links go out by SMS: a dotted path to a backend class (callbacks/sms.py):
# callbacks.sms.FileBackend writes each message under SMS_FILE_PATH (the DEBUG default),
# callbacks.sms.ConsoleBackend logs it; for a real gateway write a subclass of
# callbacks.sms.BaseBackend. Empty (the production default): no SMS, surveys go by e-mail
# or become phone callbacks.
SMS_BACKEND = env.str("SMS_BACKEND", default="callbacks.sms.FileBackend" if DEBUG else "")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))
# Follow-up calls: tries before a customer is marked unreachable, and hours between tries.
FOLLOWUP_MAX_ATTEMPTS = env.int("FOLLOWUP_MAX_ATTEMPTS", default=3)
FOLLOWUP_RETRY_HOURS = env.float("FOLLOWUP_RETRY_HOURS", default=4)

# --- Public web form (/submit/) -------------------------------------------------
# Successful submissions per client address, e.g. "10/h" or "30/minute".
PUBLIC_FORM_RATE_LIMIT = env.str("PUBLIC_FORM_RATE_LIMIT", default="10/h")
PUBLIC_FORM_MAX_FILES = env.int("PUBLIC_FORM_MAX_FILES", default=5)
PUBLIC_FORM_MAX_TOTAL_BYTES = env.int("PUBLIC_FORM_MAX_TOTAL_MB", default=10) * 1024 * 1024
# Behind a reverse proxy that overwrites X-Forwarded-For (deploy/nginx does), turn this on so
# rate limits see the customer's address instead of the proxy's.
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", default=False)

# --- E-mail ---------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND",
        default="django.core.mail.backends.filebased.EmailBackend"
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend",
    )
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="servicedesk@localhost")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = 30
# The outbox (servicedesk.outbox): a claimed message not marked sent within the lease is due
# again (its worker died); a group is what one worker claims at a time.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)
OUTBOX_GROUP_SIZE = env.int("OUTBOX_GROUP_SIZE", default=20)
NOTIFICATION_EMAIL_ATTEMPTS = env.int("NOTIFICATION_EMAIL_ATTEMPTS", default=5)
# How long the API remembers an Idempotency-Key and its answer.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
# A running export beats every EXPORT_HEARTBEAT_SECONDS; silent for EXPORT_STALE_SECONDS, its
# worker is taken for dead and the export sweep (every minute) restarts it, and fails it with
# a message after EXPORT_ATTEMPTS runs.
EXPORT_HEARTBEAT_SECONDS = env.int("EXPORT_HEARTBEAT_SECONDS", default=15)
EXPORT_STALE_SECONDS = env.int("EXPORT_STALE_SECONDS", default=90)
EXPORT_ATTEMPTS = env.int("EXPORT_ATTEMPTS", default=2)

# --- Channels: replies out, webhooks (servicedesk/messaging) --------------------
# A reply is tried this many times (1, 2, 4 … minutes apart) before it is marked failed.
MESSAGING_MAX_ATTEMPTS = env.int("MESSAGING_MAX_ATTEMPTS", default=8)
# Webhooks retry with exponential backoff for this long, then the delivery is dead-lettered
# and the subscription paused (its owner is told).
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
# Webhook targets on private, loopback or link-local addresses are refused (SSRF) unless on.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
# The 【签名】 every SMS starts with (replies, survey links, return instructions): the name
# registered with the SMS gateway.
SMS_SIGNATURE = env.str("SMS_SIGNATURE", default="")
# The service hotline customers are told to call (survey closing text: {热线}). Unset, the
# sentence naming it is left out rather than showing a made-up number.
SERVICE_HOTLINE = env.str("SERVICE_HOTLINE", default="")

# --- Celery ---------------------------------------------------------------------
CELERY_BROKER_URL = (
    env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://localhost//"
)
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # Half a second between looks at the folder (default 1 s): Ctrl-C under `make run`
        # stops the worker in ~2 s, within honcho's 5 s before it sends SIGKILL.
        "polling_interval": 0.5,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Longer than any task runs; deadlines are swept from the database, never scheduled as ETAs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="servicedesk")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TIMEZONE = TIME_ZONE
# django-celery-beat's DatabaseScheduler behind a PostgreSQL advisory lock: one beat at a time.
CELERY_BEAT_SCHEDULER = "servicedesk.beat:LockedDatabaseScheduler"
# Unit tests of a task body only: never set in production or in the worker tests.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "servicedesk.staff.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_THROTTLE", default="30/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Service Desk API",
    "DESCRIPTION": "Cases, follow-ups and knowledge for customer-service channel systems.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs page describe every endpoint: for logged-in staff and API
    # clients with a token only (401 otherwise).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI's files come with the app (drf-spectacular-sidecar): no CDN, intranets work,
    # and the Content-Security-Policy needs no other origin.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "servicedesk.api_schema.complete_responses",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set (several share field names such as "kind" or "state").
    "ENUM_NAME_OVERRIDES": {
        "CaseStateEnum": "complaints.models.State",
        "ChannelEnum": "complaints.models.Channel",
        "CaseTypeEnum": "complaints.models.CaseType",
        "CategoryEnum": "complaints.models.Category",
        "UrgencyEnum": "complaints.models.Urgency",
        "ContactMethodEnum": "complaints.models.ContactMethod",
        "CustomerKindEnum": "complaints.models.CustomerKind",
        "CustomerTierEnum": "complaints.models.CustomerTier",
        "EventKindEnum": "complaints.models.EventKind",
        "ReturnReasonEnum": "complaints.models.ReturnReason",
        "ReturnStepEnum": "complaints.models.ReturnStep",
        "ArticleCategoryEnum": "knowledge.models.ArticleCategory",
        "ArticleStatusEnum": "knowledge.models.ArticleStatus",
        "PlanRevisionStateEnum": "knowledge.models.RevisionState",
        "PlanResourceKindEnum": "knowledge.models.ResourceKind",
        "StageUnitEnum": "knowledge.models.TimeUnit",
        "StageStartEnum": "knowledge.models.StageStart",
        "ResponsibleRoleEnum": "knowledge.models.ResponsibleRole",
    },
}

# --- Security (all on when DEBUG is off; `manage.py check --deploy` is clean) -----
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])
if not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way decision for the domain owner, not a default we can make.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# --- Content-Security-Policy (django-csp) ----------------------------------------------
# On every page, admin and public: scripts, styles, images and fonts from this site only; no
# inline script or <style> element (ours live in static files), no plugins, no framing, forms
# post here only. Inline style *attributes* stay allowed (style-src-attr): the admin's badges
# and the server-drawn SVG charts colour themselves with them; an attribute cannot run code.
# CSP_REPORT_ONLY=1 sends the same policy as Content-Security-Policy-Report-Only (to try a
# change on a live site without blocking anything).
_CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-elem": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP_POLICY
else:
    CONTENT_SECURITY_POLICY = _CSP_POLICY

# --- Logging --------------------------------------------------------------------
# LOG_STYLE=console (set by `make run`): honcho stamps every line with the time already, so
# our lines carry none (one time, one zone per line) and Celery's per-task "received" lines
# are left out. The default, "server", stamps each line for a log file or journald.
LOG_STYLE = env.str("LOG_STYLE", default="server")
_LOG_TIME = "" if LOG_STYLE == "console" else "%(asctime)s "
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": _LOG_TIME + "%(levelname)s %(name)s: %(message)s"}},
    "filters": {
        "no_traceback_for_403": {"()": "servicedesk.logs.NoTracebackFor403"},
        "readable_task_results": {"()": "servicedesk.logs.ReadableTaskResults"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_traceback_for_403"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's own console handler would print each line a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "celery.app.trace": {"filters": ["readable_task_results"]},
        # At the console: no "task received" line per task, no login bookkeeping by axes
        # (refused logins and lock-outs are warnings and still show).
        **(
            {"celery.worker.strategy": {"level": "WARNING"}, "axes": {"level": "WARNING"}}
            if LOG_STYLE == "console"
            else {}
        ),
    },
}
if LOG_STYLE == "console":
    CELERY_WORKER_LOG_FORMAT = "%(levelname)s %(processName)s: %(message)s"
    CELERY_WORKER_TASK_LOG_FORMAT = "%(levelname)s %(task_name)s: %(message)s"
