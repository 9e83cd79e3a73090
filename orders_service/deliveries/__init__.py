"""Deliveries finalised: a staff review of a partial delivery, returns to restock, the COD a courier collected."""
