"""ASGI entry point for servers: `uvicorn orders_service.asgi:app`."""

from orders_service.app import create_app

app = create_app()
