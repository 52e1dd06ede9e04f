"""Reproducible benchmarks with printed figures (see bench/README.md)."""
