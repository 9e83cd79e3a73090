"""A fake Ahamove partner API for tests (couriers.md §5, §9)."""
