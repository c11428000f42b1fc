"""The HTTP client under the Bot API calls.

PTB's default, ``HTTPXRequest``, costs about 1.1-1.7 ms of CPU per call on these machines (httpx, httpcore,
anyio and h11 in pure Python; httpcore also scans every pooled connection on each request), which
was about half of the bot's CPU per text update. ``AiohttpRequest`` does the same over aiohttp
(its HTTP parser is in C): about 0.3 ms per call, measured against the Bot API double on loopback.
It is used when aiohttp is installed; without it the bot falls back to a tuned ``HTTPXRequest``.

Requests are sent as PTB's own ``HTTPXRequest`` sends them: form-encoded parameters (each value
JSON-encoded by PTB), multipart when there are files. aiohttp has no write timeout: a slow upload is
bounded by the read timeout of its answer instead.
"""
from __future__ import annotations

import socket
import ssl
from typing import Any

from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

try:
    import aiohttp
except ImportError:      # an optional accelerator: the bot works without it (see make_request)
    aiohttp = None

_NODELAY = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)


def make_request(*, pool_size: int, for_updates: bool = False) -> BaseRequest:
    """The request object for the Bot API: aiohttp when installed, else httpx with TCP_NODELAY (without
    it a request's body waits ~40 ms for the delayed ACK of its headers) and a pool (PTB's default is
    one connection, so every answer would queue behind the previous one)."""
    if aiohttp is not None:
        return AiohttpRequest(pool_size=pool_size)
    if for_updates:
        return HTTPXRequest(socket_options=_NODELAY)
    return HTTPXRequest(connection_pool_size=pool_size, pool_timeout=10.0, socket_options=_NODELAY)


def _ssl_context() -> ssl.SSLContext:
    try:
        import certifi        # httpx brings it; the same CA bundle as PTB's default client
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


class AiohttpRequest(BaseRequest):
    """A ``telegram.request.BaseRequest`` over one ``aiohttp.ClientSession`` with a connection pool."""

    def __init__(self, *, pool_size: int = 64, connect_timeout: float = 5.0, read_timeout: float = 5.0,
                 pool_timeout: float = 10.0) -> None:
        if aiohttp is None:
            raise RuntimeError("AiohttpRequest needs the aiohttp package")
        self._pool_size = pool_size
        self._connect_timeout, self._read_timeout, self._pool_timeout = connect_timeout, read_timeout, pool_timeout
        self._session: Any = None

    @property
    def read_timeout(self) -> float:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=_ssl_context())
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE, write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        waiting = None if connect is None or pool is None else connect + pool     # pool wait + connecting
        timeout = aiohttp.ClientTimeout(total=None, connect=waiting, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(method, url, data=_body(request_data), timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as err:        # aiohttp's timeouts are TimeoutErrors (ServerTimeoutError too)
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err


def _body(request_data: RequestData | None) -> Any:
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters                   # application/x-www-form-urlencoded
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form
