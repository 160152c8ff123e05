"""Benchmarks of mock-ims against its peers (`nox -s bench`; see benchmarks/README.md)."""
