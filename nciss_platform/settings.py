"""Django settings for the nciss platform, read from the environment (.env.example lists every variable).

Zero configuration gives a working development set-up on SQLite except for SECRET_KEY,
which has a default only when NCISS_DEBUG is on. A bad value stops the start with one line.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

import nciss
from nciss_platform.env import (
    env_bool,
    env_broker,
    env_database,
    env_int,
    env_list,
    env_secret,
    env_smtp,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent

DEBUG = env_bool("NCISS_DEBUG", False)

SECRET_KEY = env_secret("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set SECRET_KEY or SECRET_KEY_FILE (or NCISS_DEBUG=1 for development)"
        )
    SECRET_KEY = "nciss-development-only-never-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DATABASES = {"default": env_database("DATABASE_URL", default=f"sqlite:///{Path.cwd() / 'nciss.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The one scale that gives every incident its level in this deployment (contract.md).
NCISS_NATIONAL_SCALE = env_str("NCISS_NATIONAL_SCALE", "osce-reference")
try:
    nciss.load_scale(NCISS_NATIONAL_SCALE)
except nciss.ScaleError as exc:
    path, reason = exc.errors[0]
    more = f" (and {len(exc.errors) - 1} more: see nciss scales validate)" if len(exc.errors) > 1 else ""
    raise ImproperlyConfigured(f"NCISS_NATIONAL_SCALE={NCISS_NATIONAL_SCALE!r}: {path}: {reason}{more}") from None

# TOTP for CSIRT staff and administrators; only `make demo` turns it off, and then says so on every page.
NCISS_REQUIRE_2FA = env_bool("NCISS_REQUIRE_2FA", True)

# Login throttling (accounts.throttle): so many failed sign-ins for one username, or from one
# address, within NCISS_LOGIN_LOCKOUT_MINUTES lock it for that long after the last of them.
NCISS_LOGIN_MAX_FAILURES = env_int("NCISS_LOGIN_MAX_FAILURES", 5)
NCISS_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("NCISS_LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
NCISS_LOGIN_LOCKOUT_MINUTES = env_int("NCISS_LOGIN_LOCKOUT_MINUTES", 15)
for _name in ("NCISS_LOGIN_MAX_FAILURES", "NCISS_LOGIN_MAX_FAILURES_PER_ADDRESS", "NCISS_LOGIN_LOCKOUT_MINUTES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name}={globals()[_name]} must be at least 1")
# Behind a reverse proxy, the header it puts the client's address in (e.g. X-Forwarded-For; its last entry).
NCISS_CLIENT_IP_HEADER = env_str("NCISS_CLIENT_IP_HEADER", "")

# Scales whose reporting regimes bind organisations besides the national scale's (e.g. NIS2 deadlines).
NCISS_REPORTING_SCALES = env_list("NCISS_REPORTING_SCALES", ["eu-nis2"])

# The deployment's country (ISO 3166-1 alpha-2): organisations elsewhere are foreign partners.
NCISS_COUNTRY = env_str("NCISS_COUNTRY", "XA")
NCISS_MAX_ATTACHMENT_BYTES = env_int("NCISS_MAX_ATTACHMENT_MB", 10) * 1024 * 1024
MEDIA_ROOT = Path(env_str("NCISS_MEDIA_ROOT", str(Path.cwd() / "media")))

# Outgoing e-mail (notifications): NCISS_SMTP_URL, or the EMAIL_* variables one by one.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_smtp = env_smtp("NCISS_SMTP_URL") or {
    "EMAIL_HOST": env_str("EMAIL_HOST", "localhost"),
    "EMAIL_PORT": env_int("EMAIL_PORT", 25),
    "EMAIL_HOST_USER": env_str("EMAIL_HOST_USER", ""),
    "EMAIL_HOST_PASSWORD": env_secret("EMAIL_HOST_PASSWORD") or "",
    "EMAIL_USE_TLS": env_bool("EMAIL_USE_TLS", False),
    "EMAIL_USE_SSL": env_bool("EMAIL_USE_SSL", False),
}
EMAIL_HOST, EMAIL_PORT = _smtp["EMAIL_HOST"], _smtp["EMAIL_PORT"]
EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _smtp["EMAIL_HOST_USER"], _smtp["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS, EMAIL_USE_SSL = _smtp["EMAIL_USE_TLS"], _smtp["EMAIL_USE_SSL"]
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are both on: STARTTLS or TLS from the start, not both")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# The sender of notifications; its domain also names their Message-IDs.
DEFAULT_FROM_EMAIL = SERVER_EMAIL = env_str("NCISS_EMAIL_FROM", "nciss@localhost")

# Background work (nciss_platform.outbox): a Redis URL only wakes idle workers at once instead of
# at their next poll; jobs live in the database either way.
NCISS_BROKER_URL = env_broker("NCISS_BROKER_URL")

# Feed events over HTTP (docs/feeds.md): the largest request, and the pending backlog beyond which
# new requests are answered 429 (events, or megabytes of stored bodies).
NCISS_FEED_MAX_REQUEST_BYTES = env_int("NCISS_FEED_MAX_REQUEST_MB", 10) * 1024 * 1024
NCISS_FEED_MAX_BACKLOG_EVENTS = env_int("NCISS_FEED_MAX_BACKLOG_EVENTS", 500_000)
NCISS_FEED_MAX_BACKLOG_BYTES = env_int("NCISS_FEED_MAX_BACKLOG_MB", 512) * 1024 * 1024

# Notifications: where people reach this platform (the links in messages), how long an
# acknowledgement link works, and how often the worker checks clocks and acknowledgements.
NCISS_BASE_URL = env_str("NCISS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
NCISS_ACK_LINK_DAYS = env_int("NCISS_ACK_LINK_DAYS", 14)
NCISS_NOTIFY_TICK_SECONDS = env_int("NCISS_NOTIFY_TICK_SECONDS", 60)

# Campaigns (nciss_platform.campaigns, docs/campaigns.md): how far apart incidents of one campaign
# may be, and how many organisations one classification must reach (two sectors also do).
NCISS_CAMPAIGN_WINDOW_HOURS = env_int("NCISS_CAMPAIGN_WINDOW_HOURS", 72)
NCISS_CAMPAIGN_MIN_ORGANISATIONS = env_int("NCISS_CAMPAIGN_MIN_ORGANISATIONS", 3)

# E-mail with reporters (nciss_platform.mail, docs/email.md): the address reports and answers go to
# (the Reply-To of replies), the largest message accepted, attachments per message, and the IMAP
# mailbox `nciss mail poll-imap` reads (imaps://user:password@host/INBOX; it may hold a password).
NCISS_MAIL_ADDRESS = env_str("NCISS_MAIL_ADDRESS", DEFAULT_FROM_EMAIL)
NCISS_MAIL_MAX_BYTES = env_int("NCISS_MAIL_MAX_MB", 25) * 1024 * 1024
NCISS_MAIL_MAX_ATTACHMENTS = env_int("NCISS_MAIL_MAX_ATTACHMENTS", 10)
NCISS_IMAP_URL = env_secret("NCISS_IMAP_URL") or ""

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "nciss_platform.accounts",
    "nciss_platform.audit",
    "nciss_platform.incidents",
    "nciss_platform.scales",
    "nciss_platform.interop",
    "nciss_platform.sharing",
    "nciss_platform.outbox",
    "nciss_platform.notifications",
    "nciss_platform.mail",
    "nciss_platform.reports",
    "nciss_platform.feeds",
    "nciss_platform.campaigns",
    "nciss_platform.dashboard",
    "nciss_platform.calibration",
    "nciss_platform.exercises",
]
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "nciss_platform.pages.ReaderLanguageMiddleware",  # after authentication: the user's own language first
    "nciss_platform.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "nciss_platform.urls"
WSGI_APPLICATION = "nciss_platform.wsgi.application"

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
                "nciss_platform.context_processors.platform",
            ],
        },
    },
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Security headers; cookies are Secure and HSTS is sent when the site is served over HTTPS.
NCISS_HTTPS = env_bool("NCISS_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = NCISS_HTTPS
SECURE_HSTS_SECONDS = 31536000 if NCISS_HTTPS else 0
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский"), ("uz", "Oʻzbekcha")]  # the scales' languages (nciss.texts)
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]  # the interface's own strings; scale texts come with the scales
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# nciss serves its static files itself, straight from the package (WhiteNoise), so that no
# collectstatic step is needed; STATIC_ROOT is only for a reverse proxy that serves them instead.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = env_str("STATIC_ROOT", "") or None

REST_FRAMEWORK = {
    # Sessions for the browser, tokens for other tools; the scales and assess endpoints stay public.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "URL_FORMAT_OVERRIDE": None,  # ?format= names an export format (stix, misp ...), not a renderer
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "nciss_platform.api.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "nciss API",
    "DESCRIPTION": "National cyber incident classification and severity scales: assess incident facts on any scale.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the interface languages wherever they appear (a request's lang, a user's language).
    "ENUM_NAME_OVERRIDES": {"LanguageEnum": LANGUAGES},
    # No call to swagger.io's online validator: the docs page never leaves this server.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}
