"""JSON-RPC over one websocket to pctx, both ways, and a link that reconnects it.

:class:`Peer` sends requests and answers pctx's ``execute_tool`` calls concurrently (each
call in its own task, cancelled by a ``cancel`` notification). :class:`Link` keeps a peer
up: when the websocket drops it connects again with exponential backoff, like the Go SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from pctx_client import _protocol as wire
from pctx_client.exceptions import (
    AuthenticationError,
    ConnectionError,
    ConnectionLostError,
    HTTPStatusError,
    PctxError,
    RemoteError,
)

logger = logging.getLogger("pctx_client")

# Incoming frames are bounded by the server's own limit (16 MiB by default); this guards
# only against a misbehaving peer exhausting memory.
MAX_INCOMING_BYTES = 256 * 1024 * 1024

CallHandler = Callable[[Any, Any], Awaitable[str]]
"""Answers one ``execute_tool`` request (id, params) with a response frame."""


class UpgradeRefused(ConnectionError):
    """pctx answered the websocket upgrade with an HTTP error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


async def open_websocket(url: str, headers: Mapping[str, str], user_agent: str) -> ClientConnection:
    """Open a websocket to pctx.

    Raises:
        AuthenticationError: HTTP 401/403 on the upgrade.
        UpgradeRefused: Another HTTP error status.
        ConnectionError: pctx cannot be reached.
    """
    try:
        return await connect(
            url,
            additional_headers=dict(headers),
            max_size=MAX_INCOMING_BYTES,
            compression=None,
            open_timeout=None,  # the caller bounds the whole connect
            user_agent_header=user_agent,
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        body = exc.response.body.decode(errors="replace").strip() if exc.response.body else ""
        detail = f": {body}" if body else ""
        if status in (401, 403):
            raise AuthenticationError(
                f"pctx at {url} refused the connection (HTTP {status}){detail}"
            ) from exc
        raise UpgradeRefused(f"pctx at {url} answered HTTP {status}{detail}", status) from exc
    except (OSError, WebSocketException) as exc:
        raise ConnectionError(f"Failed to connect to {url}: {exc}") from exc


class Peer:
    """One open websocket: requests to pctx and pctx's calls to this client's tools.

    Not thread-safe: use it from the event loop it was started on.
    """

    def __init__(self, ws: ClientConnection, on_call: CallHandler, label: str) -> None:
        self._ws = ws
        self._on_call = on_call
        self._label = label
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._calls: dict[Any, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.closed = asyncio.Event()
        self.close_reason = "connection closed"
        self.max_message = wire.DEFAULT_MAX_MESSAGE_BYTES
        self._reader = asyncio.create_task(self._read_loop(), name=f"pctx-client-{label}")

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        """Send one request and wait for its result.

        Cancelling the wait tells pctx to stop the work (a ``cancel`` notification).

        Raises:
            RemoteError: pctx answered with a JSON-RPC error.
            ConnectionLostError: The connection closed first.
            ValueError: The request is larger than pctx accepts.
        """
        if self.closed.is_set():
            raise ConnectionLostError(f"{method}: not connected to pctx ({self.close_reason})")
        id_ = next(self._ids)
        frame = wire.request(id_, method, params)
        size = len(frame.encode())
        if size > self.max_message:  # pctx would close the whole connection (1009) over it
            raise ValueError(
                f"{method}: request is {size} bytes, over pctx's limit of {self.max_message} bytes"
            )
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[id_] = fut
        try:
            try:
                await self._ws.send(frame)
            except ConnectionClosed as exc:
                raise ConnectionLostError(f"{method}: connection to pctx closed: {exc}") from exc
            try:
                return await fut
            except RemoteError as exc:
                raise RemoteError(method, exc.code, exc.remote_message, exc.data) from None
            except asyncio.CancelledError:
                if not self.closed.is_set():
                    self.send_soon(wire.notification("cancel", {"id": id_}))
                raise
        finally:
            self._pending.pop(id_, None)

    def send_soon(self, frame: str) -> None:
        """Send ``frame`` from a background task, ignoring a closed connection."""
        task = asyncio.create_task(self._send_quietly(frame))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self, reason: str = "disconnected by the client") -> None:
        """Close the websocket and wait for the reader to finish. Safe to repeat."""
        if not self.closed.is_set():
            self.close_reason = reason
        with contextlib.suppress(WebSocketException, OSError):
            await self._ws.close(1000, "bye")
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    async def _send_quietly(self, frame: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._ws.send(frame)

    async def _read_loop(self) -> None:
        try:
            async for raw in self._ws:
                self._dispatch(raw)
        except ConnectionClosed as exc:
            self.close_reason = f"connection lost: {exc}"
        except Exception as exc:  # never let the reader die silently
            logger.exception("pctx-client: %s reader failed", self._label)
            self.close_reason = f"reader failed: {exc}"
        finally:
            if self._ws.close_code not in (None, 1000) and self.close_reason == "connection closed":
                self.close_reason = (
                    f"connection closed ({self._ws.close_code} {self._ws.close_reason})"
                )
            self._shutdown()

    def _shutdown(self) -> None:
        """Fail pending requests and cancel running calls: nobody can answer them now."""
        self.closed.set()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(
                    ConnectionLostError(f"pctx connection ended: {self.close_reason}")
                )
        self._pending.clear()
        for task in self._calls.values():
            task.cancel()
        self._calls.clear()

    def _dispatch(self, raw: str | bytes) -> None:
        try:
            msg = json.loads(raw)
        except ValueError as exc:
            logger.warning("pctx-client: unparseable frame from pctx: %s", exc)
            return
        if not isinstance(msg, dict):
            logger.warning("pctx-client: frame from pctx is not a JSON-RPC object")
            return
        method = msg.get("method")
        if method is None:
            self._on_response(msg)
        elif "id" not in msg:
            self._on_notification(str(method), msg.get("params"))
        elif method == "execute_tool":
            id_ = msg.get("id")
            task = asyncio.create_task(self._serve(id_, msg.get("params")))
            self._calls[id_] = task
            task.add_done_callback(lambda t: self._forget_call(id_, t))
        elif method == "ping":
            self.send_soon(wire.result(msg.get("id"), {}))
        else:
            self.send_soon(
                wire.error(msg.get("id"), wire.METHOD_NOT_FOUND, f"method not found: {method}")
            )

    def _on_response(self, msg: dict[str, Any]) -> None:
        id_ = msg.get("id")
        fut = self._pending.get(id_) if isinstance(id_, int) else None
        if fut is None or fut.done():
            logger.debug("pctx-client: response for unknown id %r", id_)
            return
        err = msg.get("error")
        if isinstance(err, Mapping):
            code = err.get("code")
            fut.set_exception(
                RemoteError(
                    "request",
                    code if isinstance(code, int) else wire.INTERNAL_ERROR,
                    str(err.get("message", "")),
                    err.get("data"),
                )
            )
        else:
            fut.set_result(msg.get("result"))

    def _on_notification(self, method: str, params: Any) -> None:
        if method == "cancel" and isinstance(params, Mapping):
            task = self._calls.get(params.get("id"))
            if task is not None:
                task.cancel(str(params.get("reason") or "cancelled by pctx"))
        else:
            logger.debug("pctx-client: ignoring notification %s", method)

    async def _serve(self, id_: Any, params: Any) -> None:
        # A cancelled call sends no answer (the protocol allows it).
        frame = await self._on_call(id_, params)
        if len(frame) > self.max_message // 4 and len(frame.encode()) > self.max_message:
            # pctx would close the whole connection (1009) over it.
            frame = wire.error(
                id_,
                wire.TOOL_ERROR,
                f"the result is {len(frame.encode())} bytes, over pctx's limit of "
                f"{self.max_message} bytes",
                {"type": "ResultTooLarge"},
            )
        await self._send_quietly(frame)

    def _forget_call(self, id_: Any, task: asyncio.Task[None]) -> None:
        if self._calls.get(id_) is task:
            del self._calls[id_]


class Link(ABC):
    """A :class:`Peer` kept up: re-established with exponential backoff when it drops.

    Requests made while it is down wait up to ``connect_timeout`` for it to come back;
    requests in flight when it dropped fail with :class:`ConnectionLostError` (they are
    not retried: a program may have side effects).
    """

    def __init__(
        self,
        label: str,
        *,
        connect_timeout: float,
        reconnect: bool,
        backoff: tuple[float, float],
    ) -> None:
        self.label = label
        self._connect_timeout = connect_timeout
        self._reconnect = reconnect
        self._backoff = backoff
        self._peer: Peer | None = None
        self._ready = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopped.set()
        self._stop_reason = "not connected: await p.connect() first"
        self._supervisor: asyncio.Task[None] | None = None

    @abstractmethod
    async def _establish(self) -> Peer:
        """Open (and set up) a new peer; raises on failure, leaving nothing running."""

    @property
    def connected(self) -> bool:
        """Whether the websocket is up now."""
        return self._ready.is_set()

    async def start(self) -> None:
        """Connect the first time; failures propagate. Then keep the link up."""
        self._stopped.clear()
        try:
            async with asyncio.timeout(self._connect_timeout):
                self._peer = await self._establish()
        except TimeoutError:
            self._stopped.set()
            raise ConnectionError(
                f"{self.label}: connecting took longer than {self._connect_timeout}s"
            ) from None
        except BaseException:
            self._stopped.set()
            raise
        self._ready.set()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"pctx-{self.label}")

    async def peer(self) -> Peer:
        """The peer, waiting up to ``connect_timeout`` while it reconnects.

        Raises:
            ConnectionLostError: The link is stopped, or did not come back in time.
        """
        if self._stopped.is_set():
            raise ConnectionLostError(f"{self.label}: {self._stop_reason}")
        if not self._ready.is_set():
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await self._ready.wait()
            except TimeoutError:
                raise ConnectionLostError(
                    f"{self.label}: reconnecting to pctx took longer than {self._connect_timeout}s"
                ) from None
        assert self._peer is not None
        return self._peer

    async def stop(self, reason: str = "disconnected by the client") -> None:
        """Close the websocket and stop reconnecting. Safe to repeat."""
        self._stop_reason = reason
        self._stopped.set()
        self._ready.clear()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        if self._peer is not None:
            await self._peer.close(reason)

    async def wait_stopped(self) -> None:
        """Wait until :meth:`stop`, or until the link gives up."""
        await self._stopped.wait()

    def _delay(self, failures: int) -> float:
        low, high = self._backoff
        return min(high, low * 2.0 ** max(0, failures - 1)) * (0.8 + 0.4 * random.random())

    async def _supervise(self) -> None:
        while True:
            assert self._peer is not None
            await self._peer.closed.wait()
            self._ready.clear()
            if not self._reconnect:
                self._stop_reason = f"connection lost: {self._peer.close_reason}"
                self._stopped.set()
                return
            logger.warning("pctx-client: %s: %s; reconnecting", self.label, self._peer.close_reason)
            failures = 0
            while True:
                await asyncio.sleep(self._delay(failures))
                try:
                    async with asyncio.timeout(self._connect_timeout):
                        self._peer = await self._establish()
                    break
                except (AuthenticationError, HTTPStatusError) as exc:
                    if isinstance(exc, HTTPStatusError) and exc.status_code not in (401, 403):
                        failures += 1
                        logger.warning("pctx-client: %s: reconnect failed: %s", self.label, exc)
                        continue
                    self._stop_reason = f"reconnect refused: {exc}"
                    logger.error("pctx-client: %s: %s", self.label, self._stop_reason)
                    self._stopped.set()
                    return
                except (PctxError, OSError, TimeoutError) as exc:
                    failures += 1
                    logger.warning("pctx-client: %s: reconnect failed: %s", self.label, exc)
            logger.info("pctx-client: %s: reconnected", self.label)
            self._ready.set()
