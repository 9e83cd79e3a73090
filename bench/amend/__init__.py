"""amend_bench.py's parts: captured SQL, domain arithmetic, load driver, the three modes, report, command line."""
