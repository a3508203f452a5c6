"""Benchmarks: `make bench...` targets print figures; they never run in the test suite."""
