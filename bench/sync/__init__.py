"""sync_bench.py's parts: server log, service and courier, outbox, the two measurements, report, command line."""
