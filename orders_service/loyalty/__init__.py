"""Loyalty: a points ledger fed by completed orders, tiers evaluated from it, and the customer profile."""
