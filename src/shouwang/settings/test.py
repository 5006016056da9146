"""Test settings: base settings with fast hashing and plain static storage."""

from shouwang.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A fixed test key keeps tests independent of var/ (base64 of 32 bytes).
SHOUWANG_DATA_KEY = "c2hvdXdhbmctdGVzdC1rZXktbm90LWZvci11c2UhISE="
# Each test process keeps its own cache, so throttle counts never leak between runs.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run at once in tests; tests that exercise the queue swap the backend themselves.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
