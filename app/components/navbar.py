"""The top bar, built from ``dash.page_registry`` so a new page appears without editing it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html


def user_menu(username: str, role: str, csrf: str) -> html.Div:
    """Who is logged in, with which role, and a Log out button (a POST with the CSRF token)."""
    return html.Div(
        [
            html.Span(username, className="text-white fw-semibold me-1", id="navbar-user"),
            dbc.Badge(role, color="light", text_color="primary", class_name="me-2"),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf", value=csrf),
                    html.Button("Log out", type="submit", className="btn btn-sm btn-outline-light"),
                ],
                action="/logout",
                method="POST",
                className="d-inline",
            ),
        ],
        className="d-flex align-items-center ms-3",
    )


def navbar(
    logo_src: str,
    pages: Iterable[Mapping[str, Any]] | None = None,
    badge: str | None = None,
    user: html.Div | None = None,
) -> dbc.Navbar:
    """Logo, product name and one link per registered page (in registry order).

    ``pages`` defaults to ``dash.page_registry.values()``; pages registered with
    ``nav=False`` are left out. ``badge`` is a short note shown beside the name (e.g. "demo data");
    ``user`` is the :func:`user_menu` shown at the right.
    """
    entries = list(dash.page_registry.values()) if pages is None else list(pages)
    links = [
        dbc.NavItem(
            dbc.NavLink(
                page["name"],
                href=page.get("relative_path", page["path"]),
                active="exact",
                class_name="px-3",
            )
        )
        for page in entries
        if page.get("nav", True)
    ]
    brand = [
        html.Img(src=logo_src, alt="", height="30", width="30", className="plumbline-logo me-2"),
        html.Span("Plumbline", className="fw-semibold"),
    ]
    if badge:
        brand.append(dbc.Badge(badge, color="light", text_color="primary", class_name="ms-2"))
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(brand, href="/", class_name="d-flex align-items-center"),
                dbc.Nav(links, navbar=True, class_name="ms-auto"),
                *([user] if user is not None else []),
            ],
            fluid=True,
        ),
        color="primary",
        dark=True,
        sticky="top",
        class_name="mb-4 plumbline-navbar",
    )
