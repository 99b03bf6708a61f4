"""One module per page; ``create_app`` imports every module here whose name has no leading ``_``."""
