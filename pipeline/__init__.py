"""Plumbline's pipeline: everything that computes or writes."""
