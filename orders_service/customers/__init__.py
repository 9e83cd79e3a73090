"""Customers: one profile per person, found by any of her phones."""
