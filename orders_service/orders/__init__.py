"""Orders: create, read, amend, confirm, cancel, and their history."""
