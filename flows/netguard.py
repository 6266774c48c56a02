"""Refuse connections to private, loopback, link-local and cloud-metadata addresses.

A feed or a page can link or redirect anywhere, including into the network storywatch
runs in. The check happens where the socket is opened, for every connection and so for
every redirect hop: the host name is resolved once, every address it resolves to must be
public (or allowed by the user), and the connection goes to the address that was checked,
so a second DNS answer cannot swap in another one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import httpcore
import httpx

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddress(httpcore.ConnectError):
    """A connection was refused because the host resolves to a non-public address."""


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Networks from strings such as ``127.0.0.1`` or ``10.0.0.0/8``; a ValueError names a bad one."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


# Ranges that Python 3.11's is_global lets through but that lead inside a network or
# nowhere public: IETF protocol assignments, cloud metadata and wire-server addresses,
# site-local IPv6, IPv4-compatible and IPv4-translated IPv6 (::ffff:0:a.b.c.d), local-use
# NAT64 (64:ff9b:1::/48, translated by a network's own gateway, so its embedded address
# says nothing about where it leads), IPv6 documentation (3fff::/20) and SRv6 SIDs (5f00::/16).
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.0/24", "168.63.129.16/32", "100.100.100.200/32", "fec0::/10", "::/96",
        "::ffff:0:0:0/96", "64:ff9b:1::/48", "3fff::/20", "5f00::/16",
    )
)  # fmt: skip
# The well-known NAT64 prefix embeds an IPv4 address: the embedded one is checked.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(address: str) -> bool:
    """Whether ``address`` is a globally routable unicast address (not metadata, not private)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return is_public(str(ip.ipv4_mapped))
        if ip.sixtofour:
            return is_public(str(ip.sixtofour))
        if ip in _NAT64:
            return is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    if any(ip in net for net in _NOT_PUBLIC if net.version == ip.version):
        return False
    return ip.is_global and not ip.is_multicast


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, with the address check in front of every connection."""

    def __init__(self, allowed: tuple[Network, ...] = ()) -> None:
        self._allowed = allowed
        self._inner = httpcore.AnyIOBackend()
        # Lookups get threads of their own: asyncio.run waits for the loop's default
        # executor, so one slow resolver there would hold a batch past its deadlines.
        self._resolver = ThreadPoolExecutor(thread_name_prefix="storywatch-dns")

    def close(self) -> None:
        """Stop waiting for lookups still running: nobody wants their answers any more."""
        self._resolver.shutdown(wait=False, cancel_futures=True)

    def permitted(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return is_public(address) or any(ip in network for network in self._allowed)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            infos = await asyncio.get_running_loop().run_in_executor(self._resolver, _lookup, host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        # A Python built without IPv6 support gives such addresses as numbers: not usable.
        addresses = list(dict.fromkeys(info[4][0] for info in infos if isinstance(info[4][0], str)))
        refused = [a for a in addresses if not self.permitted(a)]
        if refused or not addresses:
            raise BlockedAddress(
                f"refused to connect to {host} ({', '.join(refused) or 'no address'}): "
                "not a public address (allow it with STORYWATCH_HTTP_ALLOW_PRIVATE)"
            )
        failure: httpcore.ConnectError | None = None
        for address in addresses:  # every one was checked: try them in turn
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise BlockedAddress("unix sockets are not used for news")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _lookup(host: str, port: int) -> list:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def guarded_transport(limits: httpx.Limits, backend: GuardedBackend) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection passes ``backend``'s address check."""
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    # httpx does not take a network backend; the pool it wraps (public httpcore API) does.
    # Rebuilding the pool keeps httpx's request handling and error mapping unchanged.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )
    return transport
