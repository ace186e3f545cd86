"""Which client the public rate limit counts: the peer, or what a named proxy says it forwarded for.

`X-Forwarded-For` is believed only from the proxies named in ``FORWARDED_ALLOW_IPS``: from anyone
else it is a header any client can write, and a new value per request would escape the limit.
An IPv6 client is counted by its /64, the block one subscriber usually holds whole.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPv4_PREFIX, IPv6_PREFIX = 32, 64
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class ProxySettingError(ValueError):
    """FORWARDED_ALLOW_IPS holds something other than addresses and networks."""


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        networks = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            if item == "*":
                raise ProxySettingError("FORWARDED_ALLOW_IPS must name its proxies; '*' trusts every client")
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as error:
                raise ProxySettingError(
                    "FORWARDED_ALLOW_IPS holds an entry that is not an address"
                ) from error
        return cls(tuple(networks))

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def client_of(self, peer: str | None, forwarded_for: str | None) -> str:
        """The key the limiter counts for a request from ``peer`` carrying ``forwarded_for``."""
        address = _address(peer)
        if address is None:
            return "unknown"
        if forwarded_for and self.trusts(address):
            # Walk from the nearest hop back: each trusted proxy vouches for the one before it; the
            # first hop no trusted proxy is, is the client.
            for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
                forwarded = _address(hop)
                if forwarded is None:
                    break
                address = forwarded
                if not self.trusts(forwarded):
                    break
        return limited_block(address)


def limited_block(address: Address) -> str:
    """One IPv4 address, or the /64 an IPv6 address lies in."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPv6_PREFIX if isinstance(address, ipaddress.IPv6Address) else IPv4_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _address(text: str | None) -> Address | None:
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]  # "[2001:db8::1]:443"
    elif text.count(":") == 1:
        text = text.split(":")[0]  # "203.0.113.7:443"
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None
