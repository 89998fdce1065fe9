"""Benchmarks (never timed tests): run with `make bench`; figures go to docs/performance.md."""
