"""Slow suites against a real `plumbline serve`: load, soak and faults (`pytest -m slow`)."""
