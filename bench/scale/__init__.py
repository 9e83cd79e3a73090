"""The scale run: the deployed stack under an open-loop mixed workload, with faults; invariants checked after."""
