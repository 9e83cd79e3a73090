"""A fake Viettel Post partner API v2 for tests (couriers.md §3, §9)."""
