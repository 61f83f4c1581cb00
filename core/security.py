"""Who is calling, as the network tells it: the client's address behind the proxy, and the network a per-address
limit counts (config.security's login limits, the API's throttle, API tokens' last use)."""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The caller's IP address: behind a known proxy the last X-Forwarded-For hop (the address the proxy saw: a
    proxy appends it to whatever the client sent, so the earlier hops are the client's to invent, and a spray
    rotating them would escape every per-address limit), else REMOTE_ADDR; None when the request has neither
    (a login made in code)."""
    meta = getattr(request, "META", {})
    if settings.TRUST_X_FORWARDED_FOR:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return meta.get("REMOTE_ADDR") or None


def client_network(request) -> str | None:
    """What a per-address limit counts: the client's IPv4 address, or the /64 network of an IPv6 one (a subscriber
    holds a whole /64 and could take a new address of it for every attempt)."""
    address = client_address(request)
    if address and ":" in address:
        try:
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        except ValueError:
            return address
    return address
