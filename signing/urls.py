"""Webhook URL rules: syntax, IP literals in every spelling, and which addresses are off limits."""

from __future__ import annotations

import re
import unicodedata
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

MAX_URL_LENGTH = 2048
MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63

INVALID_URL = "INVALID_URL"
BLOCKED_ADDRESS = "BLOCKED_ADDRESS"

IPAddress = IPv4Address | IPv6Address

_SCHEMES = ("http", "https")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")
_ZONE_ID = re.compile(r"[A-Za-z0-9._~-]+")
_IPV4_DIGITS = {
    8: frozenset("01234567"),
    10: frozenset("0123456789"),
    16: frozenset("0123456789abcdefABCDEF"),
}
# Character categories that are invisible or break lines: controls, format characters
# (zero-width, bidi overrides), surrogates and every kind of separator.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})

_LOCALHOST_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        # The names Debian-style /etc/hosts files give to IPv6 loopback and multicast.
        "ip6-localhost",
        "ip6-loopback",
        "ip6-localnet",
        "ip6-mcastprefix",
        "ip6-allnodes",
        "ip6-allrouters",
    }
)
# Suffixes reserved for names that only resolve inside a local network.
_LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".home.arpa")


# First match wins, so narrower prefixes come before the wider ones that contain them.
_IPV4_RULES = tuple(
    (IPv4Network(prefix), reason)
    for prefix, reason in (
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "reserved"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)
_IPV6_SPECIAL = ((IPv6Network("::/128"), "unspecified"), (IPv6Network("::1/128"), "loopback"))
_IPV6_RULES = tuple(
    (IPv6Network(prefix), reason)
    for prefix, reason in (
        ("64:ff9b:1::/48", "private"),
        ("100::/64", "reserved"),
        ("2001:2::/48", "benchmarking"),
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "reserved"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "reserved"),
        ("fc00::/7", "private"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "private"),
        ("ff00::/8", "multicast"),
    )
)
_GLOBAL_UNICAST = IPv6Network("2000::/3")
# Prefixes whose low 32 bits carry an IPv4 address the packet ends up at, each with its
# verdict when that IPv4 address is public: the deprecated forms are not routed at all.
_IPV4_EMBEDDING: tuple[tuple[IPv6Network, str | None], ...] = (
    (IPv6Network("::ffff:0:0/96"), None),  # IPv4-mapped
    (IPv6Network("64:ff9b::/96"), None),  # NAT64 well-known prefix
    (IPv6Network("::ffff:0:0:0/96"), "reserved"),  # IPv4-translated (SIIT)
    (IPv6Network("::/96"), "reserved"),  # IPv4-compatible, deprecated
)
_SIX_TO_FOUR = IPv6Network("2002::/16")
_TEREDO = IPv6Network("2001::/32")

_REASON_PHRASES = {
    "loopback": "a loopback address",
    "private": "a private network address",
    "link-local": "a link-local address",
    "shared": "a shared (carrier-grade NAT) address",
    "multicast": "a multicast address",
    "broadcast": "the broadcast address",
    "reserved": "a reserved address",
    "unspecified": "an unspecified address",
    "documentation": "an address reserved for documentation",
    "benchmarking": "an address reserved for benchmarking",
}


class UrlRuleError(ValueError):
    """A webhook URL broke a rule; `code` is INVALID_URL or BLOCKED_ADDRESS."""

    def __init__(self, code: str, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # For BLOCKED_ADDRESS: the classify_address reason word, or "localhost"/"local-name".
        self.reason = reason


def check_webhook_url(url: str, *, allow_private: bool = False) -> str:
    """The normalised webhook URL (lower-case scheme and host, IP literals in canonical form),
    or UrlRuleError. An empty URL is an error here; callers treat "" as "clear" beforehand."""
    # Messages never quote the URL: it may carry credentials in its path or query.
    # A DNS name passing here may still resolve to a private address: the sender must
    # run classify_address on every resolved address before it connects.
    _check_characters(url)
    scheme_match = _SCHEME.match(url)
    if scheme_match is None or scheme_match.group(1).lower() not in _SCHEMES:
        raise _invalid("URL must be an absolute URL starting with http:// or https://.")
    scheme, after_scheme = scheme_match.group(1).lower(), url[scheme_match.end() :]
    if not after_scheme.startswith("//"):
        raise _invalid("URL must start with http:// or https:// followed by a host.")
    authority_end = _first_index(after_scheme, "/?#", start=2)
    authority, rest = after_scheme[2:authority_end], after_scheme[authority_end:]
    if "@" in authority:
        raise _invalid("URL must not contain a user name or password before the host.")
    host_text, port_text = _split_port(authority)
    address, host = _parse_host(host_text)
    if not allow_private:
        _check_destination(address, host)
    port_part = f":{port_text}" if port_text is not None else ""
    return f"{scheme}://{host}{port_part}{rest}"


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address an IP-literal host denotes (any inet_aton or WHATWG spelling), else None."""
    if host.startswith("[") and host.endswith("]"):
        # Inside brackets a zone id is written "%25<zone>" (RFC 6874).
        address, percent, zone = host[1:-1].partition("%")
        if not percent:
            return _parse_ipv6(address)
        if not (zone.startswith("25") and _ZONE_ID.fullmatch(zone[2:])):
            return None
        return _parse_ipv6(f"{address}%{zone[2:]}")
    if ":" in host:
        return _parse_ipv6(host)
    return _parse_ipv4(host)


def classify_address(address: str | IPv4Address | IPv6Address) -> str | None:
    """None for a globally routable address, else a reason word such as "loopback"."""
    if isinstance(address, str):
        parsed = parse_ip_literal(address)
        if parsed is None:
            raise ValueError("expected an IP address")
        address = parsed
    if isinstance(address, IPv4Address):
        return _classify_ipv4(address)
    return _classify_ipv6(address)


def is_blocked_hostname(host: str) -> bool:
    """Whether a DNS name is localhost or a name that only resolves on a local network."""
    return _hostname_block_reason(host) is not None


def _check_characters(url: str) -> None:
    if not url:
        raise _invalid("URL must not be empty.")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"URL must be at most {MAX_URL_LENGTH} characters long.")
    if any(char.isspace() or unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in url):
        raise _invalid("URL must not contain spaces, line breaks or control characters.")
    if not url.isascii():
        raise _invalid(
            "URL must contain only ASCII characters: percent-encode others and write "
            "international domain names in their xn-- form."
        )
    if "\\" in url:
        # Browsers read a backslash as a slash and other parsers do not; refusing it
        # keeps every parser agreeing on which host is meant.
        raise _invalid("URL must not contain backslashes.")


def _first_index(text: str, characters: str, *, start: int) -> int:
    positions = [text.find(char, start) for char in characters]
    return min((position for position in positions if position >= 0), default=len(text))


def _split_port(authority: str) -> tuple[str, str | None]:
    """The host and the port as written (None when absent)."""
    if authority.startswith("["):
        close = authority.find("]")
        host, after = authority[: close + 1], authority[close + 1 :]
        if close < 0 or (after and not after.startswith(":")):
            raise _invalid("URL host in brackets must be an IPv6 address like [2001:db8::1].")
        colon, port = after[:1], after[1:]
    elif authority.count(":") > 1:
        raise _invalid("URL IPv6 hosts must be written in brackets, like [2001:db8::1].")
    else:
        host, colon, port = authority.partition(":")
    if not colon:
        return host, None
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise _invalid("URL port must be a number from 1 to 65535.")
    return host, port


def _parse_host(host: str) -> tuple[IPAddress | None, str]:
    """The host's IP address (None for a DNS name) and its normalised spelling."""
    if not host:
        raise _invalid("URL must have a host.")
    if host.startswith("["):
        address = parse_ip_literal(host)
        if not isinstance(address, IPv6Address):
            raise _invalid("URL host in brackets must be an IPv6 address like [2001:db8::1].")
        return address, f"[{str(address).replace('%', '%25')}]"
    host = host.lower()
    if _ends_in_number(host):
        # A host ending in a number is an IPv4 address to every URL parser; if it is not a
        # valid one it must not slip through to DNS as a name.
        ipv4 = _parse_ipv4(host)
        if ipv4 is None:
            raise _invalid("URL host looks like an IPv4 address but is not a valid one.")
        return ipv4, str(ipv4)
    _check_dns_name(host)
    return None, host


def _ends_in_number(host: str) -> bool:
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    last = labels[-1]
    if last[:2] == "0x":
        return all(char in _IPV4_DIGITS[16] for char in last[2:])
    return last.isdigit()


def _check_dns_name(host: str) -> None:
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > MAX_HOST_LENGTH:
        raise _invalid(f"URL host name must be 1 to {MAX_HOST_LENGTH} characters long.")
    for label in name.split("."):
        if not label:
            raise _invalid("URL host name must not contain empty labels (like '..').")
        if len(label) > MAX_LABEL_LENGTH:
            raise _invalid(
                f"URL host name labels must be at most {MAX_LABEL_LENGTH} characters long."
            )
        if not _LABEL.fullmatch(label):
            raise _invalid(
                "URL host name may contain only letters, digits, hyphens and underscores, "
                "and no label may start or end with a hyphen."
            )


def _check_destination(address: IPAddress | None, host: str) -> None:
    if address is not None:
        reason = classify_address(address)
        if reason is not None:
            raise UrlRuleError(
                BLOCKED_ADDRESS,
                f"Webhook URLs must reach a public address; {address} is "
                f"{_REASON_PHRASES.get(reason, 'not publicly routable')}.",
                reason=reason,
            )
        return
    reason = _hostname_block_reason(host)
    if reason == "localhost":
        message = "Webhook URLs must reach a public address, not localhost."
        raise UrlRuleError(BLOCKED_ADDRESS, message, reason=reason)
    if reason is not None:
        raise UrlRuleError(
            BLOCKED_ADDRESS,
            "Webhook URLs must reach a public address; this host name only resolves on a "
            "local network (a single label, or a name under .local, .internal or .home.arpa).",
            reason=reason,
        )


def _hostname_block_reason(host: str) -> str | None:
    name = host.lower().removesuffix(".")
    if name in _LOCALHOST_NAMES or name.endswith(".localhost"):
        return "localhost"
    # A dotless name is completed from the resolver's search domains, which point inside.
    if "." not in name or name.endswith(_LOCAL_SUFFIXES):
        return "local-name"
    return None


def _parse_ipv6(text: str) -> IPv6Address | None:
    try:
        return IPv6Address(text)
    except ValueError:
        return None


def _parse_ipv4(host: str) -> IPv4Address | None:
    # Mirrors inet_aton (which the resolver uses), widened to what WHATWG URL parsers
    # also accept (a trailing dot, a bare "0x"), so no spelling of an address escapes.
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if len(parts) > 4:
        return None
    numbers = [_parse_ipv4_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    *leading, last = [number for number in numbers if number is not None]
    if any(number > 0xFF for number in leading) or last >= 1 << (8 * (5 - len(numbers))):
        return None
    value = last
    for position, number in enumerate(leading):
        value |= number << (8 * (3 - position))
    return IPv4Address(value)


def _parse_ipv4_number(part: str) -> int | None:
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not part or not all(char in _IPV4_DIGITS[base] for char in digits):
        return None
    try:
        return int(digits, base) if digits else 0
    except ValueError:  # more digits than int() will read; far beyond 32 bits anyway
        return None


def _classify_ipv4(address: IPv4Address) -> str | None:
    for network, reason in _IPV4_RULES:
        if address in network:
            return reason
    return None


def _classify_ipv6(address: IPv6Address) -> str | None:
    address = IPv6Address(int(address))  # the zone id does not change where it leads
    for network, reason in _IPV6_SPECIAL:
        if address in network:
            return reason
    embedded, verdict_when_public = _embedded_ipv4(address)
    if embedded:
        blocked = (reason for reason in map(_classify_ipv4, embedded) if reason is not None)
        return next(blocked, verdict_when_public)
    for network, reason in _IPV6_RULES:
        if address in network:
            return reason
    return None if address in _GLOBAL_UNICAST else "reserved"


def _embedded_ipv4(address: IPv6Address) -> tuple[list[IPv4Address], str | None]:
    """The IPv4 addresses a translated or tunnelled IPv6 address leads to, and the verdict
    on the IPv6 address itself when they are all public."""
    value = int(address)
    for network, verdict in _IPV4_EMBEDDING:
        if address in network:
            return [IPv4Address(value & 0xFFFFFFFF)], verdict
    if address in _SIX_TO_FOUR:
        return [IPv4Address((value >> 80) & 0xFFFFFFFF)], None
    if address in _TEREDO and address.teredo is not None:
        server, client = address.teredo
        return [client, server], None
    return [], None


def _invalid(message: str) -> UrlRuleError:
    return UrlRuleError(INVALID_URL, message)
