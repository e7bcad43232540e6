"""Support code for the test suites (fixtures live in the conftest.py files)."""
