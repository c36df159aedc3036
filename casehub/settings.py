"""CaseHub settings, read from the environment (see .env.example).

With nothing set, CaseHub runs on one machine with no services: SQLite, local
memory cache, console email and Celery tasks run in-process. DJANGO_ENV=production
turns on the deployment hardening and refuses to start without a real secret key.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters.")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="casehub-development-key-not-secret")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Where the site is reached, for links in emails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="")
DEPARTMENT_NAME = env.str("DEPARTMENT_NAME", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_ckeditor_5",
    "django_filters",
    "axes",
    "csp",
    # Our apps, in their layers: each imports only the ones above it here
    # (tests/casehub/test_layers.py holds the order and checks it).
    "casehub",
    "submissions",
    "inbox",
    "campaigns",
    "textcheck",
    "review",
    "showcase",
    "authoring",
    "desk",
    "stats",
    "exports",
    "backups",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost after security, so that every answer, static files and the
    # refusals below included, carries the same headers.
    "casehub.middleware.ResponseHeadersMiddleware",
    # Before anything reads the query string, the form or the session cookie.
    "casehub.middleware.NullCharacterMiddleware",
    # Cross-origin reads of /api/ by the embedding sites; a preflight is
    # answered here, before sessions and the rest.
    "showcase.middleware.ApiCorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes must come last: it turns a locked-out login into its own response.
    "axes.middleware.AxesMiddleware",
]

# The benchmark swaps in bench.urls, which adds its ceiling view.
ROOT_URLCONF = env.str("ROOT_URLCONF", default="casehub.urls")
BENCH_CEILING_FILE = env.str("BENCH_CEILING_FILE", default="")
# Anonymous readers' cached pages are answered in front of Django's middleware
# (showcase.front); everything else goes on to Django.
WSGI_APPLICATION = "showcase.front.application"

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
                "csp.context_processors.nonce",
                "casehub.context_processors.site",
                "inbox.context_processors.inbox",
                "review.context_processors.workspace",
            ],
        },
    },
]

# Database: SQLite by default; DATABASE_URL=postgres://… for PostgreSQL.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Writers take the lock when their transaction begins and queue behind
        # each other instead of failing half-way with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# CACHE_URL=redis://… selects Django's own Redis backend.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://casehub")}

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk:home"
LOGOUT_REDIRECT_URL = "home"

# django-axes: lock a username (from any address) after repeated failures, and
# an address after many failures over all the usernames it tried (see
# casehub.lockout). An administrator unlocks early with `manage.py
# axes_reset_username NAME` or by deleting the access attempt in the admin.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "casehub.lockout.AccountLockoutHandler"
# Axes stores the failed request's form; the password change form's fields are
# passwords too (casehub.views.PasswordChangeView counts them).
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "old_password",
    "new_password1",
    "new_password2",
]
AXES_LOCKOUT_CALLABLE = "casehub.views.login_locked_out"
AXES_RESET_ON_SUCCESS = True
# The lock ends when the page says it does: attempts while locked, the owner's
# included, are refused without moving the end of the lock.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Built Word exports: kept outside MEDIA_ROOT, since only the person who asked
# for one (or an editor) may download it, through the exports views.
EXPORT_ROOT = env.path("EXPORT_ROOT", default=BASE_DIR / "var" / "exports")
# A finished export is a copy of pages anyone may build again: keep it this
# many days, then remove the file and its job.
EXPORT_KEEP_DAYS = env.int("EXPORT_KEEP_DAYS", default=7)
# An export writes a heartbeat after every case, and no case takes more than a
# few seconds to lay out: an open export silent this many minutes lost its
# worker, and is built again (the sweep runs every minute).
EXPORT_STALE_MINUTES = env.int("EXPORT_STALE_MINUTES", default=3)
# The published copy of the public pages, for nginx to serve without Python
# (showcase.published, deploy/nginx.conf); empty: no copy, Django serves all.
FRONT_ROOT = env.str("FRONT_ROOT", default="")
# How long a client may keep an answer of the public API (/api/v1/) without
# asking again. At 0 it asks every time, with its ETag, and an unpublished
# issue is gone from other sites at once; a 304 costs one cache look-up.
API_CACHE_MAX_AGE = env.int("API_CACHE_MAX_AGE", default=0)
# Uploaded images are re-encoded before they are stored, so serving them from
# Django is safe; a deployment may hand /media/ to its front web server instead.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploads: the request body may carry one 10 MB image plus form fields.
CASEHUB_MAX_IMAGE_BYTES = 10 * 1024 * 1024
CASEHUB_MAX_IMAGE_PIXELS = 40_000_000
# A Word file to import (authoring.docx_import), checked before it is unpacked;
# a 20-page case with ten photos Word has compressed is about 6 MB.
CASEHUB_MAX_DOCX_BYTES = 20 * 1024 * 1024
# Rich text (a case body, an editor's or issue note), checked before the HTML
# parser sees it (casehub.richtext). The longest real cases are about 10 KB of
# HTML, so 256 KB leaves room for 25 of them; at that size the cleaner takes
# well under a second on the worst allowed input (make bench: sanitize_worst_ms).
# The parser's cost grows with nesting (100,000 levels took 30 s); the editor's
# deepest real output (a table in a list five levels deep) is about 25 levels,
# and at 256 the worst allowed text still takes the cleaner about 0.2 s.
CASEHUB_RICHTEXT_MAX_BYTES = 256 * 1024
CASEHUB_RICHTEXT_MAX_DEPTH = 256
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_PERMISSIONS = 0o644

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="casehub@localhost")

# Celery: with no broker configured, tasks run in-process when queued.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request queueing a task gives up quickly when the broker is down: the
# change is saved either way, and the periodic sweeps send what was not queued.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = TIME_ZONE
# Organisations yet to submit to a call are reminded this many days before it closes.
CAMPAIGN_REMINDER_DAYS = env.int("CAMPAIGN_REMINDER_DAYS", default=3)

CELERY_BEAT_SCHEDULE = {
    # Reminders are deduplicated per case and day; hourly catches new overdue
    # cases the same day, within office hours.
    "review-overdue-reminders": {
        "task": "review.tasks.overdue_reminders_send",
        "schedule": crontab(minute=5, hour="8-20"),
    },
    # 评选: a day before a scoring deadline, once per unscored assignment.
    "review-scoring-reminders": {
        "task": "review.tasks.scoring_reminders_send",
        "schedule": crontab(minute=15),
    },
    # A planned issue goes out within a minute of its time.
    "showcase-publish-due": {
        "task": "showcase.tasks.issues_publish_due_task",
        "schedule": 60.0,
    },
    # Calls for cases closing soon: remind organisations yet to submit.
    "campaigns-reminders": {
        "task": "campaigns.tasks.campaign_reminders_send",
        "schedule": crontab(minute=0, hour=9),
    },
    # Emails whose queueing failed while the broker was down.
    "review-notification-emails-sweep": {
        "task": "inbox.tasks.notification_emails_sweep",
        "schedule": 120.0,
    },
    # Exports whose worker was lost: started again within minutes.
    "exports-revive-stalled": {
        "task": "exports.tasks.exports_revive_stalled_task",
        "schedule": 60.0,
    },
    "exports-prune": {
        "task": "exports.tasks.exports_prune_task",
        "schedule": crontab(minute=30, hour=3),
    },
    "showcase-views-fold": {
        "task": "showcase.tasks.views_fold_task",
        "schedule": 300.0,
    },
}

# CKEditor 5: the toolbar authors need, in Chinese or English by the UI language.
_CKEDITOR_TOOLBAR = [
    "heading",
    "|",
    "bold",
    "italic",
    "link",
    "|",
    "bulletedList",
    "numberedList",
    "blockQuote",
    "|",
    "insertTable",
    "imageUpload",
    "|",
    "undo",
    "redo",
]
_CKEDITOR_BASE = {
    "toolbar": {"items": _CKEDITOR_TOOLBAR, "shouldNotGroupWhenFull": False},
    # The bundle's word count counts a run of Chinese as one word (单词数：20
    # for 2,096 characters); static/js/zishu.js shows the 字数 instead, by the
    # rule the submit check uses (casehub.zishu).
    "removePlugins": ["WordCount"],
    "heading": {
        "options": [
            {
                "model": "paragraph",
                "title": "Paragraph",
                "class": "ck-heading_paragraph",
            },
            {
                "model": "heading2",
                "view": "h2",
                "title": "Heading 2",
                "class": "ck-heading_heading2",
            },
            {
                "model": "heading3",
                "view": "h3",
                "title": "Heading 3",
                "class": "ck-heading_heading3",
            },
        ]
    },
    "image": {
        "toolbar": ["imageTextAlternative", "|", "toggleImageCaption"],
        # The formats the server takes; the file picker offers only these.
        "upload": {"types": ["jpeg", "png", "webp", "gif"]},
    },
    "table": {"contentToolbar": ["tableColumn", "tableRow", "mergeTableCells"]},
    "link": {"defaultProtocol": "https://"},
}
CKEDITOR_5_CONFIGS = {
    "default": {**_CKEDITOR_BASE, "language": "zh-cn"},
    "en": {**_CKEDITOR_BASE, "language": "en"},
}
CK_EDITOR_5_UPLOAD_FILE_VIEW_NAME = "submissions:image_upload"
CKEDITOR_5_UPLOAD_FILE_TYPES = ["jpeg", "png", "webp", "gif"]

# Content-Security-Policy: scripts only from our own origin. CKEditor 5 sets
# inline style attributes on its UI, so styles allow inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the editor's upload adapter reads the token
CSRF_FAILURE_VIEW = "casehub.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Browser features no page of the site uses, switched off for it and anything it
# might embed; interest-cohort and browsing-topics opt out of ad profiling.
PERMISSIONS_POLICY_DENIED = [
    "accelerometer",
    "ambient-light-sensor",
    "autoplay",
    "battery",
    "bluetooth",
    "browsing-topics",
    "camera",
    "display-capture",
    "document-domain",
    "encrypted-media",
    "fullscreen",
    "gamepad",
    "geolocation",
    "gyroscope",
    "hid",
    "identity-credentials-get",
    "idle-detection",
    "interest-cohort",
    "local-fonts",
    "magnetometer",
    "microphone",
    "midi",
    "otp-credentials",
    "payment",
    "picture-in-picture",
    "publickey-credentials-create",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "speaker-selection",
    "storage-access",
    "usb",
    "web-share",
    "window-management",
    "xr-spatial-tracking",
]

if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
if CELERY_TASK_ALWAYS_EAGER:
    # In-process tasks would log every run into the web server's console.
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}

# Names shown in the site header when SITE_NAME / DEPARTMENT_NAME are not set.
DEFAULT_SITE_NAME = _("Party-Building Case Platform")
DEFAULT_DEPARTMENT_NAME = _("HR and Party Affairs Department")
