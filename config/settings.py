"""Settings for the complaint work-order platform. Every value that differs between
machines comes from the environment through config.env.Env, which refuses bad values."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import Env
from core.logs import TEXT_FORMAT

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

# "development" is the zero-setup default of `make run`; production must say so.
APP_ENV = env.choice("APP_ENV", ("development", "production"), "development")
PRODUCTION = APP_ENV == "production"

DEBUG = env.bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", required=PRODUCTION) or "dev-only-insecure-key-never-use-in-production"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when APP_ENV=production.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

VAR_DIR = Path(env.str("VAR_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "config.apps.StaticFiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "config.apps.Axes",
    "viewflow.workflow",
    "core",
    "org",
    "complaints",
    "workflow",
    "accountability",
    "quality",
    "reports",
    "knowledge",
    "support",
    "jobs",
    "sms",
    "demo",
]

MIDDLEWARE = [
    "config.ops.RequestTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Inside WhiteNoise (static files keep their long cache), outside everything else: no answer is stored.
    "config.security.PrivateCacheMiddleware",
    "config.security.RenewingSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.logs.LogContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    # Last: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses every login from an address with too many recent failures (whatever the username).
    "config.security.LoginAddressBackend",
    # Counts failed logins and refuses a locked-out username from that address before checking the password.
    "axes.backends.AxesStandaloneBackend",
    # Django's model backend, reading the session's user with its department, region, roles and permissions in
    # one statement (org.auth).
    "org.auth.UserBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.roles",
                "config.context_processors.work",
            ],
        },
    },
]

# Database: SQLite for a first look, PostgreSQL through DATABASE_URL everywhere else.
DATABASE_URL = env.url(
    "DATABASE_URL", ("postgres", "postgresql", "sqlite"), default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
)
if PRODUCTION and not DATABASE_URL.startswith("postgres"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL when APP_ENV=production.")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env.int("DB_CONN_MAX_AGE", 60, minimum=0))}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Behind PgBouncer in transaction mode server-side cursors cannot live across statements (docs/production.md).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DB_DISABLE_SERVER_SIDE_CURSORS", False)
    # PostgreSQL compiles a query to machine code when its estimated cost is high: the dashboards' sums of 50
    # measures over a few hundred thousand cube rows cross that line, and compiling (in every parallel worker)
    # cost more than it saved — a hot-spot read took 435 ms with it, 209 without. And it prices a random page at
    # four sequential ones (spinning disks): a cube's weeks of rows, lying together by day, were read by scanning
    # all 8 million rows (996 ms) rather than through the day index (337 ms). SSDs, as docs/production.md says.
    # Passed at connect time; behind PgBouncer, which refuses startup options, set DB_OPTIONS=none and put both
    # in postgresql.conf.
    if (options := env.str("DB_OPTIONS", "-c jit=off -c random_page_cost=1.1")) != "none":
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = options
else:
    # Web, worker and beat share one SQLite file. WAL lets readers run beside the one writer; IMMEDIATE takes the
    # write lock when a transaction begins, so two transactions never both read and then deadlock upgrading to
    # write (SQLite answers that with an instant "database is locked" that no timeout waits out); the busy
    # timeout makes a writer queue behind the other instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.url("REDIS_URL", ("redis", "rediss"))
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is required when APP_ENV=production.")
# Under pytest-xdist each test process (and every Celery worker a test starts, which inherits its environment)
# uses a Redis database of its own: a real worker started by one process never takes another process's tasks.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _XDIST_WORKER.startswith("gw") and _XDIST_WORKER[2:].isdigit():
    _scheme, _slash, _rest = REDIS_URL.rpartition("/")
    if _rest.isdigit():
        REDIS_URL = f"{_scheme}/{int(_rest) + 1 + int(_XDIST_WORKER[2:])}"

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

# Celery: Redis when given, otherwise kombu's filesystem transport so nothing else is needed.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
        # The folders are read every quarter second (kombu's default, 1 s, lets a backlog of e-mails queued by
        # the demo's seeding hold the first heartbeat back for half a minute).
        "polling_interval": 0.25,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The heartbeat travels on a queue of its own, which every worker also consumes (a worker with no -Q takes every
# queue named here): a backlog of work on the default queue never makes /healthz report a dead worker.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {"celery": {}, "health": {}}
CELERY_TASK_ROUTES = {"workflow.tasks.heartbeat": {"queue": "health"}}
# How often the deadline sweep runs (seconds).
SLA_SWEEP_SECONDS = env.int("SLA_SWEEP_SECONDS", 30, minimum=1, maximum=3600)
# How often the KPI rollups take in the orders that changed (seconds): how fresh the dashboards are.
ROLLUP_SECONDS = env.int("ROLLUP_SECONDS", 20, minimum=1, maximum=3600)
# How often the notification outbox is flushed whatever the broker missed (seconds).
NOTIFICATION_FLUSH_SECONDS = env.int("NOTIFICATION_FLUSH_SECONDS", 30, minimum=1, maximum=3600)
# How often customer SMS that are due are sent (seconds; each message is also queued when it is decided).
SMS_SEND_SECONDS = env.int("SMS_SEND_SECONDS", 10, minimum=1, maximum=3600)
CELERY_BEAT_SCHEDULE = {
    # Beat → broker → worker → database: the heartbeat /healthz reads.
    "heartbeat": {"task": "workflow.tasks.heartbeat", "schedule": 30.0},
    "sla-sweep": {"task": "workflow.tasks.sla_sweep", "schedule": float(SLA_SWEEP_SECONDS)},
    "calendars-check": {"task": "workflow.tasks.calendars_check", "schedule": 6 * 3600.0},
    # Safety nets: e-mails are queued at commit, and these catch up whatever the broker missed.
    "notifications-send": {"task": "workflow.tasks.notifications_send",
                           "schedule": float(NOTIFICATION_FLUSH_SECONDS)},
    "orders-resume-waiting": {"task": "workflow.tasks.orders_resume_waiting", "schedule": 60.0},
    # KPI rollups: the queue of changed orders applied every ROLLUP_SECONDS; open orders counted every minute.
    "rollups-apply": {"task": "quality.tasks.rollups_apply", "schedule": float(ROLLUP_SECONDS)},
    "open-orders-snapshot": {"task": "quality.tasks.open_orders_snapshot", "schedule": 60.0},
    # Every morning: from the first working day of a month on, last month's reports that are still missing.
    "monthly-reports": {"task": "reports.tasks.monthly_reports", "schedule": crontab(hour=7, minute=30)},
    # Accountability: appeal windows, notice and improvement-order deadlines; the month's scores every morning
    # from the first working day on (once).
    "accountability-sweep": {"task": "accountability.tasks.accountability_sweep", "schedule": 300.0},
    # Internal support requests: warnings, breaches of the promised date, unrated answers closed (every 5 min).
    "support-sweep": {"task": "support.tasks.support_sweep", "schedule": 300.0},
    # Early warning: batch-complaint detection every minute; incident deadlines and safety nets.
    "batch-detect": {"task": "quality.tasks.batch_detect", "schedule": 60.0},
    "incidents-sweep": {"task": "quality.tasks.incidents_sweep", "schedule": 120.0},
    # Knowledge search: recount the token statistics when articles or cases changed.
    "search-stats": {"task": "knowledge.tasks.search_stats_refresh", "schedule": 300.0},
    "accountability-month": {"task": "accountability.tasks.monthly_cycle", "schedule": crontab(hour=7, minute=0)},
    # Background jobs started from a page (imports, month closes) that the broker lost or whose worker died.
    "jobs-redispatch": {"task": "jobs.tasks.jobs_redispatch", "schedule": 60.0},
    "sms-send": {"task": "sms.tasks.sms_send", "schedule": float(SMS_SEND_SECONDS)},
    "sms-sweep": {"task": "sms.tasks.sms_sweep", "schedule": 15.0},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", 10, minimum=8)}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
                    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if PRODUCTION else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Attachments live outside the web root and are served only through a permission-checked view.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(VAR_DIR / "private-media")))
# No URL route serves this prefix; it is set only because Django's test live server expects a string.
MEDIA_URL = "/media-is-never-served-directly/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "org.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["org.tokens.TokenScope", "core.permissions.IsStaffMember"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "workflow.api.exception_handler",
    # Per API token (a browser session: per user), at the rates below (config/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": ["config.throttles.ApiRateThrottle"],
}
# Requests per window for one token or user, by scope ("N/min", "N/10s"; env "create=100/10s,read=600/10s").
# `create` (order creation) is spent on top of `write`. A province's hotline CTI creates a few orders a second at
# its peak and bursts a little above that; a token creating 50 a second (issue 15) is held to 5.
API_THROTTLE_RATES = env.rates("API_THROTTLE_RATES", {"read": "300/10s", "write": "150/10s", "create": "50/10s"})
SPECTACULAR_SETTINGS = {
    "TITLE": "Complaint work-order API",
    "DESCRIPTION": "Create and read complaint work orders from channel systems (hotline CTI, web portal, app).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Support requests share field names (action, kind, status) with orders but not their values; the orders'
    # enums keep the names they had.
    "ENUM_NAME_OVERRIDES": {
        "ActionEnum": "workflow.models.OrderEvent.Action",
        "KindEnum": "complaints.models.Kind",
        "StatusEnum": "complaints.models.OrderStatus",
        "SupportEventActionEnum": "support.models.SupportEvent.Action",
        "SupportRequestKindEnum": "support.models.SupportRequest.Kind",
        "SupportRequestStatusEnum": "support.models.SupportRequest.Status",
    },
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))  # for the file-based backend
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "complaints@localhost")
# Where staff reach the product; used for links in e-mails.
SITE_URL = env.url("SITE_URL", ("http", "https"), default="http://127.0.0.1:8000")

# Intake limits.
# Customer SMS (sms/, README "Connecting the SMS gateway"): the backend, and the operator's SMS platform.
SMS_BACKEND = env.choice("SMS_BACKEND", ("console", "file", "http"), "console")
SMS_FILE_DIR = env.str("SMS_FILE_DIR", str(VAR_DIR / "sms-outbox"))
SMS_HTTP_URL = env.url("SMS_HTTP_URL", ("http", "https"), default=None)
if SMS_BACKEND == "http" and not SMS_HTTP_URL:
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_HTTP_URL, the gateway's address.")
SMS_HTTP_FORMAT = env.choice("SMS_HTTP_FORMAT", ("json", "form"), "json")
SMS_HTTP_FIELDS = env.mapping("SMS_HTTP_FIELDS", {"phone": "mobile", "text": "content", "ref": "msgid"})
SMS_HTTP_EXTRA = env.mapping("SMS_HTTP_EXTRA", {}, keys=env.list("SMS_HTTP_EXTRA_KEYS", ("account", "sign", "ext",
                                                                                        "appid", "sender")))
SMS_HTTP_USERNAME = env.str("SMS_HTTP_USERNAME", "")
SMS_HTTP_PASSWORD = env.str("SMS_HTTP_PASSWORD", "")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", "")
SMS_HTTP_SECRET = env.str("SMS_HTTP_SECRET", "")
SMS_HTTP_TIMEOUT = env.int("SMS_HTTP_TIMEOUT", 10, minimum=1, maximum=120)
SMS_HTTP_OK_FIELD = env.str("SMS_HTTP_OK_FIELD", "")
SMS_HTTP_OK_VALUES = env.list("SMS_HTTP_OK_VALUES", ("0",))
SMS_HTTP_ID_FIELD = env.str("SMS_HTTP_ID_FIELD", "")
SMS_HTTP_RETRY_VALUES = env.list("SMS_HTTP_RETRY_VALUES", ())  # codes in SMS_HTTP_OK_FIELD meaning "busy, try later"
# The gateway calling us: replies (/api/v1/sms/inbound/) and delivery receipts (/api/v1/sms/receipts/).
SMS_INBOUND_TOKEN = env.str("SMS_INBOUND_TOKEN", "")
SMS_INBOUND_SECRET = env.str("SMS_INBOUND_SECRET", "")
SMS_INBOUND_FIELDS = env.mapping("SMS_INBOUND_FIELDS", {"phone": "mobile", "text": "content", "id": "msgid"})
SMS_RECEIPT_FIELDS = env.mapping("SMS_RECEIPT_FIELDS", {"ref": "msgid", "status": "status"})
SMS_RECEIPT_DELIVERED = env.list("SMS_RECEIPT_DELIVERED", ("DELIVRD", "delivered", "0", "success"))
SMS_RECEIPT_PENDING = env.list("SMS_RECEIPT_PENDING", ("ENROUTE", "ACCEPTD", "ACCEPTED", "UNKNOWN", "pending"))
SMS_RECEIPT_REF = env.choice("SMS_RECEIPT_REF", ("ours", "gateway"), "ours")  # which id a receipt quotes
SMS_SIGNATURE_MAX_AGE = env.int("SMS_SIGNATURE_MAX_AGE", 300, minimum=10)
SMS_RETRY_SECONDS = env.int("SMS_RETRY_SECONDS", 30, minimum=1)  # first wait after a failure; doubles, up to 1 h
SMS_GIVE_UP_HOURS = env.int("SMS_GIVE_UP_HOURS", 24, minimum=1)

ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
TRACK_RATE_LIMIT = env.int("TRACK_RATE_LIMIT", 10, minimum=1)  # lookups per client per window
TRACK_RATE_WINDOW_SECONDS = env.int("TRACK_RATE_WINDOW_SECONDS", 60, minimum=1)
# How far in the past a live order's received time may lie (a channel system's clock or queue); older history comes
# only through the historical import, which marks what it brings. A received time in the future is allowed only
# by the clock skew (minutes).
API_RECEIVED_AT_MAX_AGE_HOURS = env.int("API_RECEIVED_AT_MAX_AGE_HOURS", 24, minimum=1, maximum=24 * 31)
RECEIVED_AT_CLOCK_SKEW_MINUTES = 5
# Trust X-Forwarded-For only behind a known proxy (it is set by the proxy, not the client).
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", False)

# Login: after LOGIN_FAILURE_LIMIT failures for one username from one address, that pair is locked out for
# LOGIN_LOCKOUT_MINUTES (django-axes; attempts and lockouts are in admin, where an administrator can also unlock).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
# And after LOGIN_ADDRESS_FAILURE_LIMIT failures from one address, whatever the usernames (a spray of one password
# over many accounts), every login from that address is refused for LOGIN_LOCKOUT_MINUTES (config/security.py).
# A successful login does not reset it. Raise it where many staff share one address (a call centre behind NAT).
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.security.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_VERBOSE = False

# Staff sessions end after SESSION_IDLE_MINUTES without a request. Activity renews the session, at most once every
# SESSION_RENEW_SECONDS (config.security.RenewingSessionMiddleware: one session write a minute, not one a request).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_RENEW_SECONDS = 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
# The bearer token Prometheus sends to /metrics (without it, only administrators may read the metrics).
METRICS_TOKEN = env.str("METRICS_TOKEN", "")
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # The browsers' preload list is for public domains; operators serve the product on their intranets.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# LOG_FORMAT=json: one JSON object per line; every line names its request id, user and order (core.logs).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logs.ContextFilter"}, "phones": {"()": "complaints.phone.PhoneMaskFilter"}},
    "formatters": {"text": {"format": TEXT_FORMAT}, "json": {"()": "core.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context", "phones"],
                             "formatter": "json" if env.str("LOG_FORMAT", "text") == "json" else "text"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"},
                # WeasyPrint narrates every step of a PDF at INFO.
                "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# Outside production, serve static files straight from the app and node_modules (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
# Pages name static files through {% static %} (hashed names): the unhashed copies would only double what
# collectstatic compresses and what the web root holds.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
