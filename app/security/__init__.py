"""The web surface's defences: security headers on every response and generic error pages.

Wire both with :func:`install_security` once the Dash app and its callbacks exist.
"""

from app.security.headers import install_security

__all__ = ["install_security"]
