"""Global tools: a pctx/1 worker connection (docs/protocol.md) that registers them.

Tools registered here are visible to every MCP client of the server and to every
session; workers registering identical definitions of a namespace form a pool that
shares its calls. pctx forgets registrations when the connection ends, so the link
registers everything again after each reconnection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pctx_client import _protocol as wire
from pctx_client import _serve
from pctx_client._rpc import Link, Peer, open_websocket
from pctx_client._tool import BaseTool
from pctx_client.exceptions import ConnectionError, RegistrationError, RemoteError


def client_version() -> str:
    """This package's version."""
    try:
        return version("pctx-client")
    except PackageNotFoundError:
        return "0+unknown"


class Worker(Link):
    """The pctx/1 connection serving a :class:`~pctx_client.Pctx`'s global tools."""

    def __init__(
        self,
        ws_url: str,
        tools: Sequence[BaseTool],
        *,
        headers: Mapping[str, str],
        client_name: str,
        connect_timeout: float,
        reconnect: bool,
        backoff: tuple[float, float],
    ) -> None:
        super().__init__(
            "global tools", connect_timeout=connect_timeout, reconnect=reconnect, backoff=backoff
        )
        self._ws_url = ws_url
        self._tools = list(tools)
        self._by_key = {(t.namespace, t.name): t for t in self._tools}
        self._headers = dict(headers)
        self._client_name = client_name
        self.server_info: dict[str, Any] = {}
        self.registered: dict[str, list[str]] = {}

    async def _establish(self) -> Peer:
        ws = await open_websocket(
            self._ws_url, self._headers, f"{self._client_name}/{client_version()}"
        )
        peer = Peer(ws, self._answer, "worker")
        try:
            await self._setup(peer)
        except BaseException:
            await peer.close("setup failed")
            raise
        return peer

    async def _setup(self, peer: Peer) -> None:
        info = await peer.request(
            "initialize",
            {
                "protocolVersion": wire.PROTOCOL_VERSION,
                "client": {"name": self._client_name, "version": client_version()},
            },
        )
        if not isinstance(info, Mapping) or info.get("protocolVersion") != wire.PROTOCOL_VERSION:
            raise ConnectionError(
                f"pctx answered initialize with {info!r}; this client speaks "
                f"{wire.PROTOCOL_VERSION!r}"
            )
        self.server_info = dict(info)
        max_bytes = info.get("maxMessageBytes")
        if isinstance(max_bytes, int) and max_bytes > 0:
            peer.max_message = max_bytes
        groups: dict[str, list[BaseTool]] = {}
        for t in self._tools:
            groups.setdefault(t.namespace, []).append(t)
        registered: dict[str, list[str]] = {}
        for namespace, members in groups.items():
            try:
                res = await peer.request(
                    "register",
                    {"namespace": namespace, "tools": [m.wire() for m in members]},
                )
            except RemoteError as exc:
                raise RegistrationError(
                    f"register {namespace!r}", exc.code, exc.remote_message, exc.data
                ) from None
            if isinstance(res, Mapping):
                registered[str(res.get("namespace", namespace))] = [
                    str(f) for f in res.get("functions") or []
                ]
        self.registered = registered

    async def _answer(self, id_: Any, params: Any) -> str:
        return await _serve.answer(self._by_key, id_, params, "worker")
