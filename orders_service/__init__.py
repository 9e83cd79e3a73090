"""orders-service: amend, merge, split and ship cash-on-delivery orders for Vietnamese shops."""
