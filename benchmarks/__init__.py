"""Benchmarks and calibration: run with ``.venv/bin/python -m benchmarks.<name>``."""
