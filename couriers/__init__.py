"""Courier adapters behind one interface; imports nothing from orders_service."""
