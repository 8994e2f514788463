"""Which addresses a workspace's status feed may be fetched from (many workspaces): the rule, and the aiohttp
connector that applies it to the addresses it actually connects to.

A connect form that fetched any address with the workspace's token would let anyone who may connect make the
bot request loopback, cloud metadata (169.254.169.254) or the deployment's private network (server-side
request forgery). So, unless the operator sets FEED_ALLOW_PRIVATE_ADDRESSES (an on-premises deployment), a
feed is fetched only from public addresses: the rule is applied to what the name resolved to at each
connection (a literal address included), so a name that resolves to a public address when checked and to a
private one later (DNS rebinding) is refused then too."""

from __future__ import annotations

import errno
import ipaddress
from typing import Sequence

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.tracing import Trace

# The reason given beside the connect form's field and in the poll's error.
NOT_PUBLIC = "it is on a private or local network"


def address_allowed(address: str) -> bool:
    """True for a public IPv4 or IPv6 address; False for loopback, link-local, private, shared (100.64/10),
    multicast, reserved or unspecified ones (Python's ipaddress, after the IANA special-purpose registries),
    an IPv4-mapped IPv6 address of one of those, and for anything that is not an address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") is not the address
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    special = ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    return ip.is_global and not special


class NotPublicAddress(OSError):
    """Every address the feed's host resolved to is refused by address_allowed."""

    def __init__(self, host: str) -> None:
        super().__init__(errno.EACCES, f"{host}: {NOT_PUBLIC}")


class PublicAddressConnector(aiohttp.TCPConnector):
    """A TCPConnector that connects only to addresses address_allowed accepts: it filters what each host
    resolves to (a literal address, a DNS answer or the connector's DNS cache) before connecting, and raises
    NotPublicAddress (aiohttp wraps it in ClientConnectorDNSError) when nothing is left. Redirects go through
    it too. It extends aiohttp's TCPConnector._resolve_host (aiohttp 3.x), the one step every connection's
    addresses come from; tests/test_workspaces_connect.py fails if that ever stops applying."""

    async def _resolve_host(self, host: str, port: int, traces: Sequence[Trace] | None = None) -> list[ResolveResult]:
        resolved = await super()._resolve_host(host, port, traces=traces)
        allowed = [found for found in resolved if address_allowed(str(found["host"]))]
        if not allowed:
            raise NotPublicAddress(host)
        return allowed


def feed_connector(allow_private: bool) -> aiohttp.TCPConnector:
    """The connector of the many-workspace feeds' session: no limit on connections (a hanging feed holds only
    its own), and public addresses only unless `allow_private` (FEED_ALLOW_PRIVATE_ADDRESSES)."""
    if allow_private:
        return aiohttp.TCPConnector(limit=0)
    return PublicAddressConnector(limit=0)


def refused_for_address(exc: BaseException) -> bool:
    """Whether a failed request (or the FeedError raised from it) failed because the address was refused."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, NotPublicAddress):
            return True
        seen = getattr(seen, "os_error", None) or seen.__cause__
    return False
