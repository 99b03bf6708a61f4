"""Pure figure builders: ``DataFrame -> go.Figure``, no Dash, no SQL."""
