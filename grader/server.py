"""The HTTP server: uvicorn's h11 protocol with deadlines a slow or silent client cannot stretch.

uvicorn closes a kept-alive connection that stays idle after a response (`timeout_keep_alive`), but has
no deadline for a request itself: a client may connect and say nothing, or send a header line every
few seconds, or stop half-way through a body, and hold the connection (and whatever it made the
server buffer) for as long as it likes. `DeadlineH11Protocol` adds two deadlines per request, each
armed once and never pushed back by the client trickling bytes:

- the head (request line and headers) must be complete within `header_timeout_seconds` of the
  connection opening, or of the first byte of the next request on a kept-alive connection;
- the body must be complete within `body_timeout_seconds` of the end of the head.

Past either deadline the connection is closed (with a 408 when no response has started); the
application, if it was reading the body, sees the client disconnect. The phase of a request is read
from h11's own state of the client (`their_state`), not from uvicorn's internals.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from grader.settings import HttpSettings

_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class DeadlineH11Protocol(H11Protocol):
    """One per connection; `deadline_settings` is bound by `protocol_with_deadlines`."""

    deadline_settings = HttpSettings()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._deadline_phase: object = None  # h11.IDLE (the head) or h11.SEND_BODY

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(h11.IDLE)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow_the_client()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE:
            self._disarm()  # between requests uvicorn's keep-alive timeout is the deadline
        else:
            self._follow_the_client()  # a pipelined request, or the rest of a body we did not wait for

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _follow_the_client(self) -> None:
        """Arm the deadline of the phase the client is in, unless it is already running."""
        phase = self.conn.their_state
        if phase not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()
        elif phase is not self._deadline_phase:
            self._arm(phase)

    def _arm(self, phase: object) -> None:
        self._disarm()
        settings = self.deadline_settings
        seconds = settings.header_timeout_seconds if phase is h11.IDLE else settings.body_timeout_seconds
        self._deadline = self.loop.call_later(seconds, self._expired)
        self._deadline_phase = phase

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._deadline_phase = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.conn.our_state is h11.IDLE:  # no response has begun: say why before closing
            self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()


def protocol_with_deadlines(settings: HttpSettings) -> type[DeadlineH11Protocol]:
    """The protocol class uvicorn instantiates per connection, with these settings."""
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"deadline_settings": settings})


def server_config(app: Any, settings: HttpSettings, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, http=protocol_with_deadlines(settings),
        timeout_keep_alive=settings.idle_timeout_seconds,  # type: ignore[arg-type]  # a float works
        h11_max_incomplete_event_size=settings.max_header_bytes,
        proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level="warning", access_log=False, timeout_graceful_shutdown=60, server_header=False,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, telling `on_started` once it listens."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_started()


def run_server(app: Any, settings: HttpSettings, host: str, port: int,
               on_started: Callable[[], None] = lambda: None) -> None:
    """Serve `app` until SIGINT/SIGTERM (blocking); `on_started` runs once the socket listens."""
    _Server(server_config(app, settings, host, port), on_started).run()
