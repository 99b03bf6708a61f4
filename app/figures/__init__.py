"""Pure figure builders: ``DataFrame -> Figure``, no Dash, no SQL."""
