"""WSGI entry point for gunicorn (`shouwang serve`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouwang.settings.base")
application = get_wsgi_application()
