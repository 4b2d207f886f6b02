"""Deprecated: the exceptions live in :mod:`pctx_client.exceptions`.

``ConnectError`` is now :class:`pctx_client.exceptions.ConnectionError`.
"""

from __future__ import annotations

import warnings

from pctx_client.exceptions import (
    AuthenticationError,
    ConnectionLostError,
    PctxError,
    RegistrationError,
    RemoteError,
)
from pctx_client.exceptions import ConnectionError as ConnectError

warnings.warn(
    "pctx_client.errors is deprecated; import from pctx_client.exceptions "
    "(ConnectError is now ConnectionError)",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "AuthenticationError",
    "ConnectError",
    "ConnectionLostError",
    "PctxError",
    "RegistrationError",
    "RemoteError",
]
