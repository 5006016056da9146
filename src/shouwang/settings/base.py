"""All settings. Environment values come only from env.py."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from shouwang.settings import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env.VAR_DIR
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use the environment's key, else one generated once into var/ so sessions survive restarts."""
    if env.SECRET_KEY:
        return env.SECRET_KEY
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.DEBUG
ALLOWED_HOSTS = env.ALLOWED_HOSTS + ["testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_filters",
    "django_htmx",
    "shouwang.core",
    "shouwang.registry",
    "shouwang.policy",
    "shouwang.screening",
    "shouwang.cases",
    "shouwang.assistance",
    "shouwang.workplace",
    "django_tasks",
    "django_tasks_db",
    "shouwang.api",
    "shouwang.cli",
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
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "shouwang.urls"
WSGI_APPLICATION = "shouwang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "shouwang.workplace.context_processors.navigation",
            ],
        },
    }
]

# Connections are kept between requests (each gunicorn thread holds its own): opening one
# costs more than a list page's queries, on SQLite most (the schema is read anew each time).
conn_max_age = 600  # seconds; lower case: not a Django setting of its own
if env.DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            env.DATABASE_URL, conn_max_age=conn_max_age, conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "shouwang.sqlite3",
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
            # WAL lets the page server read while an import writes.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["shouwang.core.signin.SignInGuardBackend"]
# Failed sign-ins (pages and API alike) before a user name or an address is locked, within
# the window, and for how long (等保 2.0: limit failed sign-ins, lock, audit).
SHOUWANG_SIGNIN_MAX_FAILURES = env.SIGNIN_MAX_FAILURES
SHOUWANG_SIGNIN_MAX_FAILURES_PER_ADDRESS = env.SIGNIN_MAX_FAILURES_PER_ADDRESS
SHOUWANG_SIGNIN_WINDOW_MINUTES = env.SIGNIN_WINDOW_MINUTES
SHOUWANG_SIGNIN_LOCK_MINUTES = env.SIGNIN_LOCK_MINUTES
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

# A file cache is shared by all gunicorn workers (throttle counts, rate limits) with no server.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": VAR_DIR / "cache",
    }
}

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Everything a page loads is served by Shouwang itself (intranets have no internet), so the
# policy names only this site: no inline scripts, styles or event handlers (django-csp).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "shouwang.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "shouwang.api.schema.ErrorDocumentingAutoSchema",
    "EXCEPTION_HANDLER": "shouwang.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "守望 Shouwang API",
    "DESCRIPTION": "防止返贫动态监测和帮扶 (dynamic monitoring and assistance to prevent return to poverty)",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" (or name a risk type) with different choice sets: one
    # name per choice set instead of generated suffixes.
    "ENUM_NAME_OVERRIDES": {
        "RiskTypeEnum": "shouwang.registry.choices.RiskType",
        "AlertStatusEnum": "shouwang.screening.choices.AlertStatus",
        "RunStatusEnum": "shouwang.screening.choices.RunStatus",
        "BatchStatusEnum": "shouwang.screening.choices.BatchStatus",
        "LeadStatusEnum": "shouwang.cases.choices.LeadStatus",
        "CaseKindEnum": "shouwang.cases.choices.CaseKind",
        "CaseStateEnum": "shouwang.cases.choices.CaseState",
        "CaseVerbEnum": "shouwang.cases.choices.CaseVerb",
        "MonitoringCategoryEnum": "shouwang.registry.choices.MonitoringCategory",
        "EliminationMethodEnum": "shouwang.registry.choices.EliminationMethod",
        "AgendaKindEnum": "shouwang.cases.routine_choices.AgendaKind",
        "CheckResultEnum": "shouwang.cases.routine_choices.CheckResult",
        "MeasureStatusEnum": "shouwang.assistance.choices.MeasureStatus",
        "MeasureSourceEnum": "shouwang.assistance.choices.MeasureSource",
        "SchoolStatusEnum": "shouwang.registry.choices.SchoolStatus",
        "HealthStatusEnum": "shouwang.registry.choices.HealthStatus",
        "LabourSkillEnum": "shouwang.registry.choices.LabourSkill",
        "EthnicityEnum": "shouwang.registry.choices.Ethnicity",
        "EducationEnum": "shouwang.registry.choices.Education",
        "DisabilityGradeEnum": "shouwang.registry.choices.DisabilityGrade",
        "OfferKindEnum": "shouwang.assistance.choices.OfferKind",
        "OfferStatusEnum": "shouwang.assistance.choices.OfferStatus",
        "MatchStatusEnum": "shouwang.assistance.choices.MatchStatus",
        "AttachmentKindEnum": "shouwang.cases.choices.AttachmentKind",
        "SecureAnswerEnum": "shouwang.cases.records.SECURE_CHOICES",
    },
}

# Personal data protection (see docs/decisions/0003-personal-data.md).
SHOUWANG_DATA_KEY = env.DATA_KEY
SHOUWANG_DATA_KEY_FILE = VAR_DIR / "keys" / "data.key"
SHOUWANG_CIPHER = env.CIPHER
SHOUWANG_BLIND_INDEX = env.BLIND_INDEX

SHOUWANG_BIND = env.BIND
SHOUWANG_WORKERS = env.WORKERS
SHOUWANG_THREADS = env.THREADS
#: Rows per page on list pages.
SHOUWANG_PAGE_SIZE = 25

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # No ID or phone number in a log line (core.logredact).
    "filters": {"redact": {"()": "shouwang.core.logredact.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

SHOUWANG_HOME_DIVISION = env.HOME_DIVISION
#: Staged department feeds (Parquet) and registry snapshots for screening.
# Imports (registry and feeds): refused before reading beyond these (core.filecheck).
SHOUWANG_IMPORT_MAX_UNPACKED_MB = env.IMPORT_MAX_UNPACKED_MB
SHOUWANG_IMPORT_MAX_ROWS = env.IMPORT_MAX_ROWS
SHOUWANG_IMPORT_MAX_COLUMNS = 300
SHOUWANG_FEEDS_DIR = VAR_DIR / "feeds"
#: Staged department batches are deleted this many months after their period (the worker
#: purges monthly; the 12-month rules need the last twelve).
SHOUWANG_FEED_RETENTION_MONTHS = env.FEED_RETENTION_MONTHS
SHOUWANG_SCREENING_DIR = VAR_DIR / "screening"
SHOUWANG_SPARK_MASTER = env.SPARK_MASTER

# Background work (feed imports, screening runs, the monthly schedule): django-tasks with its
# database backend, so one machine needs no broker; `shouwang worker` runs the queue.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
