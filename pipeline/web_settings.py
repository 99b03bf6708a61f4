"""Settings for the web surface: sessions, login throttling, proxies, logs and metrics.

Nested in :class:`pipeline.settings.Settings` as ``web``; the session secret key and the first
admin's password are top-level (``PLUMBLINE_SECRET_KEY``, ``PLUMBLINE_ADMIN_PASSWORD``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class WebSettings(BaseModel):
    """How the app serves people: cookies, throttling, proxies, logs, metrics."""

    model_config = ConfigDict(extra="forbid")

    secure_cookies: bool = Field(
        False, description="send the session cookie only over HTTPS (set it behind TLS)"
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="a login lasts this long")
    login_attempts: int = Field(5, ge=1, le=100, description="failed logins allowed per window")
    login_window_minutes: float = Field(15.0, gt=0, le=24 * 60)
    trusted_proxy: str | None = Field(
        None, description="address of the reverse proxy whose X-Forwarded-* headers to trust"
    )
    log_format: Literal["text", "json"] = "text"
    metrics_token: SecretStr | None = Field(
        None, description="when set, /metrics asks for 'Authorization: Bearer <token>'"
    )
