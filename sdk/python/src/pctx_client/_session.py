"""A code-mode session: what the published client's REST API and session websocket offer.

Registration, listings, details and the ``/sdk`` shell go over REST (docs/protocol.md
§10.2); executions and the server's calls to the session's tools over one websocket that
names the session (§10.3). Unlike the published client, which opens that websocket for one
execution at a time, the session keeps it open, so its tools are served between
executions too, and reconnects it when it drops, creating the session again (and
registering everything again) if pctx no longer knows it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from pctx_client import _serve
from pctx_client._rpc import Link, Peer, UpgradeRefused, open_websocket
from pctx_client._tool import BaseTool
from pctx_client.exceptions import ConnectionError, HTTPStatusError
from pctx_client.models import ServerConfig

SESSION_HEADER = "x-code-mode-session"


class Session(Link):
    """One code-mode session of a :class:`~pctx_client.Pctx`, kept alive."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        ws_url: str,
        tools: Sequence[BaseTool],
        servers: Sequence[ServerConfig],
        *,
        headers: Mapping[str, str],
        user_agent: str,
        connect_timeout: float,
        reconnect: bool,
        backoff: tuple[float, float],
    ) -> None:
        super().__init__(
            "code-mode session",
            connect_timeout=connect_timeout,
            reconnect=reconnect,
            backoff=backoff,
        )
        self._client = client
        self._ws_url = ws_url
        self._tools = list(tools)
        self._by_key = {(t.namespace, t.name): t for t in self._tools}
        self._servers = list(servers)
        self._headers = dict(headers)
        self._user_agent = user_agent
        self.session_id: str | None = None

    async def _establish(self) -> Peer:
        if self.session_id is not None:
            try:
                return await self._open()
            except UpgradeRefused as exc:
                if exc.status != 404:
                    raise
                self.session_id = None  # pctx restarted, or the session ended: start anew
        await self._create()
        return await self._open()

    async def _create(self) -> None:
        try:
            res = await self._client.post("/code-mode/session/create")
        except httpx.TransportError as exc:
            raise ConnectionError(
                f"Failed to connect to PCTX server at {self._client.base_url}. "
                "Please ensure the server is running.\n"
                f"Start the server with: pctx start ({exc})"
            ) from exc
        if res.is_error:
            raise HTTPStatusError(res)
        try:
            session_id = res.json()["session_id"]
        except (KeyError, ValueError, TypeError) as exc:
            raise ConnectionError(
                f"Received invalid response from PCTX server at {self._client.base_url}. "
                "The server may be running but not responding correctly."
            ) from exc
        self.session_id = str(session_id)
        self._client.headers[SESSION_HEADER] = self.session_id
        if self._tools:
            await self._post("/register/tools", {"tools": [t.config() for t in self._tools]})
        if self._servers:
            await self._post("/register/servers", {"servers": self._servers})

    async def _open(self) -> Peer:
        assert self.session_id is not None
        ws = await open_websocket(
            self._ws_url, {**self._headers, SESSION_HEADER: self.session_id}, self._user_agent
        )
        return Peer(ws, self._answer, "session")

    async def _answer(self, id_: Any, params: Any) -> str:
        return await _serve.answer(self._by_key, id_, params, "session")

    async def _post(self, path: str, body: Any = None) -> Any:
        try:
            res = await self._client.post(path, json=body)
        except httpx.TransportError as exc:
            raise ConnectionError(f"POST {path} to pctx at {self._client.base_url}: {exc}") from exc
        if res.is_error:
            raise HTTPStatusError(res)
        return res.json()

    async def post(self, path: str, body: Any = None) -> Any:
        """POST to the session's REST API and return the JSON answer.

        A session pctx no longer knows (it restarted) is created again, once, first.

        Raises:
            HTTPStatusError: pctx answered with an error status.
            ConnectionError: pctx cannot be reached.
        """
        try:
            return await self._post(path, body)
        except HTTPStatusError as exc:
            if exc.status_code != 404 or not self._reconnect or "session" not in exc.reason:
                raise
        peer = await self.peer()
        await peer.close("pctx no longer knows the session")
        await self.peer()  # the link creates the session again
        return await self._post(path, body)

    async def close(self) -> None:
        """Stop the websocket and end the session on the server (best effort)."""
        await self.stop()
        if self.session_id is not None:
            with contextlib.suppress(httpx.TransportError):  # pctx is gone: so is the session
                await self._client.post("/code-mode/session/close")
            self.session_id = None
