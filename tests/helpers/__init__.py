"""Helpers the tests share (no test module imports another): models, processes, the workflow, results files.

Fixtures live in `tests/conftest.py`; these are the plain functions and constants behind them.
"""
