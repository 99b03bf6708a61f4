"""Monitoring: drift and performance of the scored population against a reference window."""
