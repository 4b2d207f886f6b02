"""Exceptions raised by :class:`pctx_client.Pctx`.

``PctxError``, ``SessionError`` and ``ConnectionError`` are the published client's; the
others refine them, so ``except ConnectionError`` keeps catching what it caught there.
A REST answer with an error status raises :class:`HTTPStatusError`, which is also an
``httpx.HTTPStatusError`` as the published client raises.
"""

from __future__ import annotations

from typing import Any

import httpx


class PctxError(Exception):
    """Base class of every error this package raises."""


class SessionError(PctxError):
    """No Code Mode session: :meth:`Pctx.connect` has not run, or the session ended."""


class ConnectionError(PctxError):  # the published client's name
    """pctx cannot be reached, or a websocket to it failed."""


class ConnectionLostError(ConnectionError):
    """The connection to pctx dropped while a request was waiting for its answer."""


class AuthenticationError(ConnectionError):
    """pctx refused the worker websocket's API key (HTTP 401/403 on the upgrade)."""


class HTTPStatusError(PctxError, httpx.HTTPStatusError):
    """pctx answered a REST request with an error status; the message carries its reason.

    Also an ``httpx.HTTPStatusError`` (``.request``, ``.response``), as the published
    client raises.
    """

    def __init__(self, response: httpx.Response) -> None:
        reason = _error_text(response)
        super().__init__(
            f"pctx answered {response.request.method} {response.request.url.path} with "
            f"HTTP {response.status_code}: {reason}",
            request=response.request,
            response=response,
        )
        self.reason = reason

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return self.response.status_code


class RemoteError(PctxError):
    """pctx answered a websocket request with a JSON-RPC error.

    Attributes:
        method: The request's method.
        code: The JSON-RPC error code (docs/protocol.md §8).
        remote_message: The server's message.
        data: The error's ``data`` member, if any.
    """

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: {message} (code {code})")
        self.method = method
        self.code = code
        self.remote_message = message
        self.data = data


class RegistrationError(RemoteError):
    """pctx refused to register a global namespace (taken by an upstream, a different pool)."""


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return response.text.strip()
