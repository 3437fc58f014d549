"""Pytest configuration shared by every test layer (see the Makefile's ``test`` target)."""

# Student versions are meant to fail until answered; fixtures and scripts are not tests.
collect_ignore = [
    "exercises", "tests/data", "bench", "scripts", "build", ".venv", "nbgrader_config.py",
]
