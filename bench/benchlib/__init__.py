"""Helpers shared by bench/amend_bench.py and bench/sync_bench.py: servers, CPU, results, PostgreSQL, load."""
