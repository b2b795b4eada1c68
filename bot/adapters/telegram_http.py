"""python-telegram-bot's requests sent with aiohttp (issue 15).

python-telegram-bot speaks to the Bot API through a ``BaseRequest``; its own uses httpx, whose transport
(httpcore, anyio, h11: ~3 MiB of RSS, 60 modules) and TLS context (certifi's bundle, read again: ~1.2 MiB)
the bot would load only for this, while aiohttp is already loaded for the HTTP server (the iCal feeds,
/healthz) and has already made a TLS context with the system's CA store. So Telegram is spoken to with
aiohttp: the same requests (form fields, or multipart with the files), the same timeouts, and the same
errors raised to the adapter (``TimedOut``, ``NetworkError``), each keeping aiohttp's exception as its cause,
which tells the adapter whether the request can have reached Telegram (``surely_not_sent``).
"""

from __future__ import annotations

import functools
import ssl
from typing import TYPE_CHECKING, Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput

USER_AGENT_HEADER = {"User-Agent": BaseRequest.USER_AGENT}
DefaultValue = type(BaseRequest.DEFAULT_NONE)  # "not given": the request's own default applies


# aiohttp's errors raised before any byte of the request left: no connection could be made (refused, no route,
# DNS, TLS handshake), or none was free or made within the connect timeout.
NOT_SENT_CAUSES: tuple[type[BaseException], ...] = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


@functools.cache
def system_trust() -> ssl.SSLContext | bool:
    """What the connections trust: the system's CA store (``True``: aiohttp's own context, made at its import
    from OpenSSL's default paths, SSL_CERT_FILE and SSL_CERT_DIR included), or certifi's bundle (as httpx
    would) on a system that has none: one context for both of the bot's requests, the bundle read once."""
    paths = ssl.get_default_verify_paths()
    if paths.cafile or paths.capath:
        return True
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout passed to the request, or this request's default where none was."""
    if isinstance(value, DefaultValue):
        return default
    return value  # type: ignore[return-value]  # a DefaultValue is the only other case


class AiohttpRequest(BaseRequest):
    """One aiohttp session (made by ``initialize``, inside the running loop) with at most
    ``connection_pool_size`` connections; timeouts as python-telegram-bot's HTTPXRequest has them."""

    def __init__(
        self,
        connection_pool_size: int = 1,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=system_trust())
            self._session = aiohttp.ClientSession(connector=connector, headers=USER_AGENT_HEADER)

    async def shutdown(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _timeout(self, read: ODVInput[float], write: ODVInput[float], connect: ODVInput[float],
                 pool: ODVInput[float], media: bool) -> aiohttp.ClientTimeout:
        """aiohttp has no write timeout and counts the wait for a free connection in ``connect``: the
        connection is bounded by pool + connect, the answer's silence by read, and the whole request by the
        sum of the four (a request whose upload stalls ends too)."""
        read_s = _given(read, self._read_timeout)
        connect_s = _given(connect, self._connect_timeout)
        pool_s = _given(pool, self._pool_timeout)
        write_s = _given(write, self._media_write_timeout if media else self._write_timeout)
        parts = (read_s, write_s, connect_s, pool_s)
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        waited = None if connect_s is None or pool_s is None else connect_s + pool_s
        return aiohttp.ClientTimeout(total=total, connect=waited, sock_connect=connect_s, sock_read=read_s)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        body: Any = fields or None
        if files:
            form = aiohttp.FormData(fields or {})
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout, bool(files))
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as error:
            raise TimedOut("Pool or connect timeout: the request was not sent to Telegram") from error
        except TimeoutError as error:  # the answer's silence (sock_read), or the whole request
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
