"""Operability endpoints on the web server: ``/healthz`` (:mod:`app.ops.health`) and
``/metrics`` (:mod:`app.ops.metrics`). Nothing is registered on import."""
