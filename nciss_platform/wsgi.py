"""The WSGI application, for any WSGI server: ``nciss_platform.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nciss_platform.settings")
application = get_wsgi_application()
