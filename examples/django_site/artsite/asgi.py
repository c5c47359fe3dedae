"""The ASGI application: Django's, wrapped by scrapeshield.

    uvicorn artsite.asgi:application --no-proxy-headers --lifespan off

scrapeshield is ASGI middleware around the whole Django application (not a Django MIDDLEWARE
entry): it decides before Django runs, and puts its decision in the scope's `state`, where views
read it as `request.scope["state"]["scrapeshield"]`. WSGI is not supported.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.asgi import get_asgi_application

from scrapeshield import ScrapeShield, Settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings")

django_application = get_asgi_application()  # first: it sets Django up
application = ScrapeShield(
    django_application,
    settings=Settings.from_file(Path(__file__).resolve().parent.parent / "scrapeshield.toml"),
)
