"""Which addresses a workspace's status feed may be fetched from (many workspaces): the rule, and the aiohttp
connector that applies it to the addresses it actually connects to.

A connect form that fetched any address with the workspace's token would let anyone who may connect make the
bot request loopback, cloud metadata (169.254.169.254) or the deployment's private network (server-side
request forgery). So, unless the operator sets FEED_ALLOW_PRIVATE_ADDRESSES (an on-premises deployment), a
feed is fetched only from public addresses: the rule is applied to each address a connection is about to be
made to (aiohttp's public `socket_factory` hook: a literal address included), so a name that resolves to a
public address when checked and to a private one later (DNS rebinding) is refused then too."""

from __future__ import annotations

import errno
import ipaddress
import socket

import aiohttp
from aiohttp import AddrInfoType

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
    """The address a feed's host resolved to is refused by address_allowed. One text for every address, so that
    when all of a host's addresses are refused the error stays this one (aiohappyeyeballs raises the first of
    several failures when their texts are equal)."""

    def __init__(self) -> None:
        super().__init__(errno.EACCES, NOT_PUBLIC)


def public_socket(addr_info: AddrInfoType) -> socket.socket:
    """aiohttp's TCPConnector `socket_factory` (aiohttp 3.12+, passed on to aiohappyeyeballs): the socket for
    one address a connection is about to be made to, after the name was resolved (a literal address, a DNS
    answer or the connector's DNS cache; redirects included). NotPublicAddress for an address address_allowed
    refuses, so no socket is ever connected to one; aiohttp wraps it in ClientConnectorError."""
    family, kind, proto, _, sockaddr = addr_info
    if not address_allowed(str(sockaddr[0])):
        raise NotPublicAddress()
    return socket.socket(family=family, type=kind, proto=proto)


def feed_connector(allow_private: bool) -> aiohttp.TCPConnector:
    """The connector of the many-workspace feeds' session: no limit on connections (a hanging feed holds only
    its own), and public addresses only unless `allow_private` (FEED_ALLOW_PRIVATE_ADDRESSES)."""
    if allow_private:
        return aiohttp.TCPConnector(limit=0)
    return aiohttp.TCPConnector(limit=0, socket_factory=public_socket)


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
