"""API keys with roles: created from the CLI or by an admin, stored hashed, checked on every /api call."""
