"""bench/floor_bench.py's modules: the probe app, the wrk runs and the report."""
