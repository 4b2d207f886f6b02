"""Exceptions raised by :class:`pctx_client.Pctx`."""

from __future__ import annotations

from typing import Any


class PctxError(Exception):
    """Base class of every error this package raises."""


class ConnectError(PctxError):
    """The connection to pctx could not be opened or initialised."""


class AuthenticationError(ConnectError):
    """pctx refused the API key (HTTP 401/403 on the websocket upgrade)."""


class ConnectionLostError(PctxError):
    """The websocket closed while a request was waiting, or was never opened."""


class RemoteError(PctxError):
    """pctx answered a request with a JSON-RPC error.

    Attributes:
        code: The JSON-RPC error code (see docs/protocol.md).
        data: The error's ``data`` member, if any.
    """

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} (code {code})")
        self.method = method
        self.code = code
        self.remote_message = message
        self.data = data


class RegistrationError(RemoteError):
    """pctx refused to register a namespace (taken by an upstream or another worker, ...)."""
