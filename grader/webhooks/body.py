"""Receiving a webhook body from a client nobody has authenticated yet.

Until the last byte has arrived and its HMAC matches, a body is anyone's. So each one costs little and
there are few of them at once: the HMAC is computed as the body streams in, at most `memory_bytes` of
it is held in memory (the rest goes to a temporary file that is unlinked from the start, so nothing is
left behind whatever happens), and at most `max_pending_bodies` are received at the same time (at most
`max_pending_per_client` from one address); the next delivery waits briefly for a slot
(`pending_wait_seconds`, so a burst of GitHub's deliveries queues instead of failing) and is then
refused. How long a client may take is the HTTP server's business
(`grader.server`): it closes a connection whose body is late, and this reader then sees a disconnect.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import IO, Any

from litestar.types import Receive

from grader.settings import WebhookSettings
from grader.webhooks.signature import BodySignature


class TooManyPendingError(Exception):
    """Every slot for unverified bodies is taken."""


class BodyTooLargeError(Exception):
    """The body is larger than the cap."""


class ClientGoneError(Exception):
    """The connection closed before the body was complete (the client left, or was too slow)."""


class PendingBodies:
    """The bodies being received and not yet verified: at most `limit` in all and `per_client` from one
    client address, so that one host cannot take every slot from GitHub. A delivery waits up to
    `wait_seconds` for a slot; a waiting delivery holds no more than any open connection does (its body
    stays unread, and the server stops reading a connection whose buffer is full)."""

    def __init__(self, limit: int, per_client: int, wait_seconds: float) -> None:
        self.limit = limit
        self.per_client = per_client
        self.wait_seconds = wait_seconds
        self.count = 0
        self._by_client: dict[str, int] = {}
        self._waiters: list[asyncio.Future[None]] = []

    def _free_for(self, client: str) -> bool:
        return self.count < self.limit and self._by_client.get(client, 0) < self.per_client

    async def _wait_for_a_free_slot(self, client: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        while not self._free_for(client):
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except TimeoutError:
                raise TooManyPendingError from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def slot(self, client: str) -> _Slot:
        """`async with pending.slot(client):` holds one slot for `client` (waiting for one first)."""
        return _Slot(self, client)

    def _take(self, client: str) -> None:
        self.count += 1
        self._by_client[client] = self._by_client.get(client, 0) + 1

    def _give_back(self, client: str) -> None:
        """No await in here: a slot is given back even when the task is being cancelled."""
        self.count -= 1
        self._by_client[client] -= 1
        if not self._by_client[client]:
            del self._by_client[client]
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:  # each looks again whether a slot is free for its own client
            if not waiter.done():
                waiter.set_result(None)


class _Slot:
    """A slot of `PendingBodies` as an async context manager (a class: a generator-based one costs a
    few microseconds more on every delivery)."""

    def __init__(self, pending: PendingBodies, client: str) -> None:
        self._pending = pending
        self._client = client

    async def __aenter__(self) -> None:
        if not self._pending._free_for(self._client):
            await self._pending._wait_for_a_free_slot(self._client)
        self._pending._take(self._client)

    async def __aexit__(self, *_exc: object) -> None:
        self._pending._give_back(self._client)


class BodySpool:
    """A body's bytes: in memory up to `memory_bytes`, then all of them in an unlinked temporary file.

    File work runs in a thread, so a slow disk never stalls the event loop.
    """

    def __init__(self, memory_bytes: int, directory: str | None) -> None:
        self._memory = bytearray()
        self._memory_bytes = memory_bytes
        self._directory = directory
        self._file: IO[bytes] | None = None

    @property
    def in_memory(self) -> int:
        """Bytes of the body held in memory now."""
        return len(self._memory)

    @property
    def on_disk(self) -> bool:
        return self._file is not None

    async def write(self, piece: bytes) -> None:
        if self._file is None and len(self._memory) + len(piece) <= self._memory_bytes:
            self._memory += piece
            return
        if self._file is None:
            self._file = await asyncio.to_thread(self._open_file)
        await asyncio.to_thread(self._file.write, piece)

    def _open_file(self) -> IO[bytes]:
        file = tempfile.TemporaryFile(dir=self._directory)  # noqa: SIM115 - closed in close()
        file.write(self._memory)
        self._memory = bytearray()
        return file

    async def read(self) -> bytes:
        if self._file is None:
            return bytes(self._memory)
        return await asyncio.to_thread(self._read_file)

    def _read_file(self) -> bytes:
        assert self._file is not None
        self._file.seek(0)
        return self._file.read()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._memory = bytearray()


async def receive_verified(receive: Receive, signature: BodySignature, settings: WebhookSettings) -> bytes:
    """The whole body, once its HMAC has matched; raises SignatureError, BodyTooLargeError or
    ClientGoneError. The caller holds a slot of `PendingBodies` for as long as this runs."""
    first: Any = await receive()
    if first["type"] == "http.request" and not first.get("more_body", False):  # the whole body at once
        return _verified_whole(first.get("body", b""), signature, settings.max_body_bytes)
    spool = BodySpool(settings.memory_bytes, str(settings.spool_dir) if settings.spool_dir else None)
    try:
        await _stream_into(receive, signature, spool, settings.max_body_bytes, first)
        signature.verify()
        return await spool.read()
    finally:
        spool.close()


def _verified_whole(body: bytes, signature: BodySignature, max_bytes: int) -> bytes:
    """A body that came in one piece: nothing to buffer, the same checks."""
    if len(body) > max_bytes:
        raise BodyTooLargeError
    signature.update(body)
    signature.verify()
    return body


async def _stream_into(receive: Receive, signature: BodySignature, spool: BodySpool, max_bytes: int,
                       message: Any) -> None:
    """Every piece of the body into `spool`, from `message` (the first) on."""
    size = 0
    while True:
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        piece: bytes = message.get("body", b"")
        size += len(piece)
        if size > max_bytes:
            raise BodyTooLargeError
        if piece:
            signature.update(piece)
            await spool.write(piece)
        if not message.get("more_body", False):
            return
        message = await receive()
