"""Shipping: courier orders kept in step with their orders, and courier events applied back."""
