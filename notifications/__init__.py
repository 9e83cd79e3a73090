"""Customer and staff messages behind one policy gate; imports nothing from orders_service."""
