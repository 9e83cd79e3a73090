"""Whose request it is: the connecting peer, or the client a trusted reverse proxy names in X-Forwarded-For.

Anyone can send X-Forwarded-For, so it is believed only from the proxies listed in `ORDERS_TRUSTED_PROXIES`
(none by default): otherwise a client picks the address its rate limit is counted under. The same list goes to
uvicorn (`serve`), so that its access log and the app agree on who the client is.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from litestar.types import Scope

_FORWARDED_FOR = b"x-forwarded-for"


class TrustedProxies:
    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.networks = tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)

    def __contains__(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:  # a unix socket, the test client's "testclient", a garbled header: not a proxy of ours
            return False
        return any(address in network for network in self.networks)

    def client(self, scope: Scope) -> str:
        """The peer's address, unless the peer is a trusted proxy: then the nearest hop it forwarded for that is
        not itself a trusted proxy (each proxy appends the address it received from, so the right end is the
        trustworthy one and the left end is whatever the client wrote)."""
        peer = scope.get("client")
        host = str(peer[0]) if peer else "unknown"
        if not self.networks or host not in self:
            return host
        hops = [
            hop.strip()
            for name, value in scope.get("headers", ())
            if name == _FORWARDED_FOR
            for hop in value.decode("latin-1").split(",")
        ]
        hops = [hop for hop in hops if hop]
        for hop in reversed(hops):
            if hop not in self:
                return hop
        return hops[0] if hops else host  # every hop a proxy of ours: the first one is the client

    def uvicorn_options(self) -> dict[str, Any]:
        """uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told otherwise: tell it ours (or none)."""
        if not self.networks:
            return {"proxy_headers": False, "forwarded_allow_ips": ""}
        return {"proxy_headers": True, "forwarded_allow_ips": [str(network) for network in self.networks]}
