"""ASGI entry point for servers: `uvicorn orders_service.asgi:app`. Each server process logs as configured."""

from orders_service.app import create_app
from orders_service.infra.settings import Settings
from orders_service.ops.logs import configure_logging

settings = Settings.from_env()
app = create_app(settings)
configure_logging(settings.log_format, settings.log_level)  # after the app: nothing it builds may replace it
