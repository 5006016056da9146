"""WSGI entry point for gunicorn (`shouwang serve`)."""

import os

from django.core.wsgi import get_wsgi_application

# As the console script does (cli.main): what the site writes is the service user's alone.
os.umask(0o077)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouwang.settings.base")
application = get_wsgi_application()
