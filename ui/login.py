"""The chat's login: SANAD_AUTH parsing, which proxies may name the client, and a limit on failed
attempts per client address."""
from __future__ import annotations

import asyncio
import ipaddress
import os
import time
from collections import defaultdict
from dataclasses import dataclass

from starlette.responses import JSONResponse

from rag import strings

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
FREE_FAILURES = 5  # mistyped passwords that cost nothing
FIRST_WAIT_S = 10  # then 20, 40, … after each further failure
MAX_WAIT_S = 300
TRACKED = 10_000  # addresses remembered at most; past it, those not locked out are forgotten first


def chat_auth(host: str, env: str | None) -> tuple[str, str] | None:
    """The login from SANAD_AUTH; required when the chat listens beyond this machine. Gradio strips
    the user name it is sent, so a blank or space-padded one here could never log in, or would
    accept an empty one: both parts must be non-blank, the user without surrounding spaces."""
    if not env:
        if host not in LOOPBACK:
            raise ValueError(strings.AUTH_REQUIRED.format(host=host))
        return None
    user, sep, password = env.partition(":")
    user = user.strip()
    if not (user and sep and password.strip()):
        raise ValueError(strings.AUTH_MALFORMED)
    return user, password


def trust_proxies(addresses: tuple[str, ...]) -> None:
    """Only these addresses (IPs or networks) may name the client in X-Forwarded-For; none by default.

    Uvicorn, which Gradio starts, replaces the connecting address with the forwarded one for requests
    from FORWARDED_ALLOW_IPS, and by default that is loopback: five failed logins from 127.0.0.1, then
    `X-Forwarded-For: 10.0.0.N` made every attempt a new client. Gradio builds uvicorn's Config itself,
    which reads the variable then, so it is set here, before each launch; an empty value trusts no one.
    """
    for address in addresses:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise ValueError(strings.PROXY_MALFORMED.format(value=address)) from None
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(addresses)


@dataclass
class _Failures:
    count: int = 0
    until: float = 0.0  # monotonic time before which this address is refused without a check


class LoginThrottle:
    """ASGI middleware around Gradio's POST /login (Gradio's auth callable never sees who is asking).

    Attempts from one address are taken one at a time, so parallel guesses gain nothing; after
    FREE_FAILURES failures in a row, the address is refused with 429 and Retry-After for 10, 20, 40, …
    seconds (at most MAX_WAIT_S) after each further failure. A successful login clears the count.
    An IPv6 address counts as its /64, which one subscriber holds whole. Memory stays bounded: a lock
    lives while attempts wait on it, and at most TRACKED addresses are remembered.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.failures: dict[str, _Failures] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.waiting: dict[str, int] = defaultdict(int)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].rstrip("/").endswith("/login"):
            await self.app(scope, receive, send)
            return
        client = address_key((scope.get("client") or ("unknown",))[0])
        self.waiting[client] += 1
        try:
            async with self.locks.setdefault(client, asyncio.Lock()):
                await self._attempt(client, scope, receive, send)
        finally:
            self.waiting[client] -= 1
            if not self.waiting[client]:
                del self.waiting[client], self.locks[client]

    async def _attempt(self, client: str, scope, receive, send) -> None:
        record = self.failures.get(client) or _Failures()
        wait = record.until - time.monotonic()
        if wait > 0:
            seconds = int(wait) + 1
            refusal = JSONResponse({"detail": strings.LOGIN_THROTTLED.format(seconds=seconds)}, status_code=429,
                                   headers={"Retry-After": str(seconds)})
            await refusal(scope, receive, send)
            return
        status = []

        async def watch(message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] == 200:
            self.failures.pop(client, None)
        elif status and status[0] == 400:
            record.count += 1
            if record.count >= FREE_FAILURES:
                record.until = time.monotonic() + min(FIRST_WAIT_S * 2 ** (record.count - FREE_FAILURES), MAX_WAIT_S)
            self.failures[client] = record
            if len(self.failures) > TRACKED:
                self._forget()

    def _forget(self) -> None:
        """Drops the addresses not locked out now, then, if still too many, those locked out longest ago."""
        now = time.monotonic()
        self.failures = {k: r for k, r in self.failures.items() if r.until > now}
        if len(self.failures) > TRACKED:
            newest = sorted(self.failures.items(), key=lambda item: item[1].until)[-TRACKED:]
            self.failures = dict(newest)


def address_key(client: str) -> str:
    """What the limit counts: the address, or for IPv6 its /64 (one household or server gets a whole
    /64, so counting single addresses would give one client 2^64 tries)."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
