"""Small helpers shared by the client and the models."""

from __future__ import annotations

import re

HAS_SEARCH = True
"""``search_functions`` is always available: its ranking is built in (no optional extra)."""

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def to_snake_case(name: str) -> str:
    """``getHTTPResponse`` → ``get_http_response``; ``Tools`` → ``tools``."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()
