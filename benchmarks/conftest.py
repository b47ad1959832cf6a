"""Benchmarks run with `make bench` (pytest-benchmark), never with the unit tests."""
