"""Webhook URL rules: every spelling of a forbidden address, and the URLs that must pass."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from signing.urls import (
    BLOCKED_ADDRESS,
    INVALID_URL,
    MAX_URL_LENGTH,
    UrlRuleError,
    check_webhook_url,
    classify_address,
    is_blocked_hostname,
    parse_ip_literal,
)

LONGEST_PATH = "/" + "a" * (MAX_URL_LENGTH - len("https://example.com/"))


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything here tries to resolve a name or open a connection."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("URL rules must not touch the network")

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
        monkeypatch.setattr(socket, name, refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


# (url, normalised url): accepted whether or not private targets are allowed.
ACCEPTED = [
    ("https://example.com/webhooks/delivery-receipt", None),
    ("http://93.184.216.34:8080/x", None),
    ("https://[2606:4700::1111]/", None),
    ("https://[2606:4700::1111]:8443/status", None),
    ("https://[2606:4700:0000:0000:0000:0000:0000:1111]/", "https://[2606:4700::1111]/"),
    ("https://[2001:4860:4860::8888]/dns", None),
    ("HTTPS://Example.COM/Path?Q=Yes#Frag", "https://example.com/Path?Q=Yes#Frag"),
    ("Http://EXAMPLE.com", "http://example.com"),
    ("https://example.com", None),
    ("https://example.com.", None),
    ("https://example.com:443/x", None),
    ("https://example.com:65535/x", None),
    ("https://example.com:1/x", None),
    ("https://example.com?only=query", None),
    ("https://example.com#only-fragment", None),
    ("https://api.example.co.uk/hooks?token=abc&x=%20y", None),
    ("https://hooks_1.example.com/", None),
    ("https://xn--bcher-kva.example/inbound", None),
    ("https://1.example.com/", None),
    ("https://0x7f.example.com/", None),
    ("https://example.com/users/@me", None),
    ("https://example.com/?email=a@example.org", None),
    ("https://example.com/#a@b", None),
    ("https://example.com/%7Euser/%E2%9C%93", None),
    ("https://" + "a" * 63 + ".example.com/", None),
    ("https://" + ".".join(["a" * 61] * 4) + ".com/", None),
    ("https://example.com" + LONGEST_PATH, None),
    # Public IPv4 addresses in unusual spellings are rewritten to the dotted quad, so the
    # sender resolves exactly what was checked.
    ("http://1572395042/x", "http://93.184.216.34/x"),
    ("http://0x5db8d822/", "http://93.184.216.34/"),
    ("http://0x5d.0xb8.0xd8.0x22/", "http://93.184.216.34/"),
    ("http://0135.0270.0330.042/", "http://93.184.216.34/"),
    ("http://93.12113954/", "http://93.184.216.34/"),
    ("http://93.184.216.34./", "http://93.184.216.34/"),
    ("http://8.8.8.8", None),
    ("https://1.2.3.0x/", "https://1.2.3.0/"),
    ("https://[::ffff:8.8.8.8]/", "https://[::ffff:808:808]/"),
    ("https://[64:ff9b::8.8.8.8]/", "https://[64:ff9b::808:808]/"),
    ("https://[2002:808:808::1]/", None),
    ("https://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/", None),
]


@pytest.mark.parametrize(("url", "normalised"), ACCEPTED)
@pytest.mark.parametrize("allow_private", [False, True])
def test_accepted(url: str, normalised: str | None, allow_private: bool) -> None:
    assert check_webhook_url(url, allow_private=allow_private) == (normalised or url)


# (url, reason): refused unless private targets are allowed.
BLOCKED = [
    # loopback, IPv4 in every spelling inet_aton or a browser accepts
    ("http://127.0.0.1/", "loopback"),
    ("https://127.0.0.1:8443/hook", "loopback"),
    ("HTTP://127.0.0.1/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://127.0.1/", "loopback"),
    ("http://127.1.2.3/", "loopback"),
    ("http://127.255.255.254/", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://017700000001/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://0X7F000001/", "loopback"),
    ("http://0x7f.1/", "loopback"),
    ("http://0x7f.0.0.1/", "loopback"),
    ("http://0x7f.0x0.0x0.0x1/", "loopback"),
    ("http://0x00007f.1/", "loopback"),
    ("http://0177.0.0.1/", "loopback"),
    ("http://0177.1/", "loopback"),
    ("http://00000177.0.0.01/", "loopback"),
    ("http://127.000.000.001/", "loopback"),
    ("http://0x7f.0xffffff/", "loopback"),
    ("http://127.16777215/", "loopback"),
    ("http://0177.0x0.1/", "loopback"),
    ("http://127.0.0.1./", "loopback"),
    ("http://127.1.:80/", "loopback"),
    # loopback, IPv6 and IPv4 embedded in IPv6
    ("http://[::1]/", "loopback"),
    ("http://[::1]:8080/", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("http://[0000::0001]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[::ffff:7f00:1]/", "loopback"),
    ("http://[::FFFF:7F00:1]/", "loopback"),
    ("http://[0:0:0:0:0:ffff:127.0.0.1]/", "loopback"),
    ("http://[::127.0.0.1]/", "loopback"),
    ("http://[::7f00:1]/", "loopback"),
    ("http://[::ffff:0:127.0.0.1]/", "loopback"),
    ("http://[64:ff9b::127.0.0.1]/", "loopback"),
    ("http://[64:ff9b::7f00:1]/", "loopback"),
    ("http://[2002:7f00:1::]/", "loopback"),
    ("http://[2002:7f00:0001:0:0:0:0:1]/", "loopback"),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "loopback"),
    # unspecified / "this network"
    ("http://0.0.0.0/", "unspecified"),
    ("http://0.0.0.0:8000/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://00/", "unspecified"),
    ("http://0x0/", "unspecified"),
    ("http://0x/", "unspecified"),
    ("http://0.0/", "unspecified"),
    ("http://000.000.000.000/", "unspecified"),
    ("http://0.1.2.3/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://[0::0]/", "unspecified"),
    ("http://[::ffff:0.0.0.0]/", "unspecified"),
    # private
    ("http://10.0.0.1/", "private"),
    ("http://10.1/", "private"),
    ("http://012.1/", "private"),
    ("http://167772161/", "private"),
    ("http://0xa000001/", "private"),
    ("http://10.255.255.255/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.255/", "private"),
    ("http://0xac.0x10.0.1/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://3232235777/", "private"),
    ("http://0300.0250.1.1/", "private"),
    ("http://0xc0a80101/", "private"),
    ("http://192.168.257/", "private"),
    ("http://[fc00::1]/", "private"),
    ("http://[fd12:3456:789a::1]/", "private"),
    ("http://[fec0::1]/", "private"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://[::ffff:a00:1]/", "private"),
    ("http://[::ffff:192.168.0.1]/", "private"),
    ("http://[64:ff9b::10.0.0.1]/", "private"),
    ("http://[64:ff9b:1::1]/", "private"),
    ("http://[2002:c0a8:101::1]/", "private"),
    ("http://[2001:0:a00:1:8000:63bf:f7f7:f7f7]/", "private"),
    # link-local, including the cloud metadata address
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://2852039166/", "link-local"),
    ("http://0xa9fea9fe/", "link-local"),
    ("http://0251.0376.0251.0376/", "link-local"),
    ("http://169.254.43518/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fe80::1%25eth0]/", "link-local"),
    ("http://[FE80::1%25en0]:8080/", "link-local"),
    ("http://[febf::1]/", "link-local"),
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),
    ("http://[2002:a9fe:a9fe::1]/", "link-local"),
    # shared address space (carrier-grade NAT)
    ("http://100.64.0.1/", "shared"),
    ("http://100.127.255.254/", "shared"),
    ("http://[::ffff:100.64.0.1]/", "shared"),
    # multicast and broadcast
    ("http://224.0.0.1/", "multicast"),
    ("http://239.255.255.250/", "multicast"),
    ("http://0xe0000001/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[ff05::1:3]/", "multicast"),
    ("http://[::ffff:224.0.0.1]/", "multicast"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://4294967295/", "broadcast"),
    ("http://0xffffffff/", "broadcast"),
    ("http://[::ffff:255.255.255.255]/", "broadcast"),
    # reserved, documentation, benchmarking
    ("http://240.0.0.1/", "reserved"),
    ("http://250.1.2.3/", "reserved"),
    ("http://192.0.0.8/", "reserved"),
    ("http://192.88.99.1/", "reserved"),
    ("http://[::8.8.8.8]/", "reserved"),
    ("http://[::ffff:0:8.8.8.8]/", "reserved"),
    ("http://[100::1]/", "reserved"),
    ("http://[2001:10::1]/", "reserved"),
    ("http://[5f00::1]/", "reserved"),
    ("http://[4000::1]/", "reserved"),
    ("http://[::ffff:240.0.0.1]/", "reserved"),
    ("http://192.0.2.1/", "documentation"),
    ("http://198.51.100.7/", "documentation"),
    ("http://203.0.113.9/", "documentation"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[3fff::1]/", "documentation"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "documentation"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://198.19.255.255/", "benchmarking"),
    ("http://[2001:2::1]/", "benchmarking"),
    # names that only ever lead inside
    ("http://localhost/", "localhost"),
    ("http://localhost:8000/hook", "localhost"),
    ("http://LOCALHOST/", "localhost"),
    ("http://LocalHost./", "localhost"),
    ("http://localhost./", "localhost"),
    ("http://a.localhost/", "localhost"),
    ("http://api.dev.localhost/", "localhost"),
    ("http://localhost.localdomain/", "localhost"),
    ("http://ip6-localhost/", "localhost"),
    ("http://ip6-loopback/", "localhost"),
    ("http://printer.local/", "local-name"),
    ("http://metadata.google.internal/computeMetadata/v1/", "local-name"),
    ("http://router.home.arpa/", "local-name"),
    ("http://box.localdomain/", "local-name"),
    ("http://intranet/", "local-name"),
    ("http://metadata/", "local-name"),
]


@pytest.mark.parametrize(("url", "reason"), BLOCKED)
def test_blocked(url: str, reason: str) -> None:
    with pytest.raises(UrlRuleError) as raised:
        check_webhook_url(url)
    assert (raised.value.code, raised.value.reason) == (BLOCKED_ADDRESS, reason)
    assert "public address" in raised.value.message


@pytest.mark.parametrize(("url", "reason"), BLOCKED)
def test_blocked_addresses_are_allowed_when_private_targets_are(url: str, reason: str) -> None:
    normalised = check_webhook_url(url, allow_private=True)
    assert normalised.startswith(("http://", "https://"))
    # The normalised URL denotes the same place, so checking it again agrees.
    assert check_webhook_url(normalised, allow_private=True) == normalised
    with pytest.raises(UrlRuleError) as raised:
        check_webhook_url(normalised)
    assert raised.value.reason == reason


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://2130706433:8080/x?y#z", "http://127.0.0.1:8080/x?y#z"),
        ("http://[::FFFF:127.0.0.1]/", "http://[::ffff:7f00:1]/"),
        ("http://[FE80::1%25eth0]/", "http://[fe80::1%25eth0]/"),
        ("http://LocalHost:3000/Hook", "http://localhost:3000/Hook"),
        ("http://receiver:8080/hook", "http://receiver:8080/hook"),
    ],
)
def test_normalised_form_of_private_targets(url: str, normalised: str) -> None:
    assert check_webhook_url(url, allow_private=True) == normalised


# (url, words of the rule the message must name): refused even when private targets are allowed.
INVALID = [
    # empty, too long
    ("", "empty"),
    ("https://example.com" + LONGEST_PATH + "a", "2048"),
    ("https://example.com/" + "a" * 10_000, "2048"),
    # whitespace and control characters, anywhere
    (" https://example.com/", "spaces"),
    ("https://example.com/ ", "spaces"),
    ("https://exa mple.com/", "spaces"),
    ("https://example.com/a b", "spaces"),
    ("https://example.com/\n", "line breaks"),
    ("https://example.com/\r\nX-Injected: 1", "line breaks"),
    ("\thttps://example.com/", "spaces"),
    ("https://example.com/\x00", "control"),
    ("https://example.com/\x1b[31m", "control"),
    ("https://example.com/\x7f", "control"),
    ("https://example.com/\x85", "control"),
    ("https://example.com/\u00a0", "spaces"),
    ("https://example.com/\u2028", "line breaks"),
    ("https://example.com/\u2029", "line breaks"),
    ("https://example.com/\u3000", "spaces"),
    ("https://example.com/\u200b", "control"),
    ("https://example.com/\ufeff", "control"),
    ("https://exam\u202eple.com/", "control"),
    # non-ASCII: international names go in their xn-- form
    ("https://exämple.com/", "ASCII"),
    ("https://例え.jp/", "ASCII"),
    ("https://example.com/café", "ASCII"),
    ("https://\uff11\uff12\uff17.0.0.1/", "ASCII"),
    ("https://127。0。0。1/", "ASCII"),
    # scheme
    ("ftp://example.com/", "http"),
    ("file:///etc/passwd", "http"),
    ("javascript:alert(1)", "http"),
    ("data:text/plain,hello", "http"),
    ("mailto:ops@example.com", "http"),
    ("gopher://example.com/", "http"),
    ("ws://example.com/", "http"),
    ("httpx://example.com/", "http"),
    ("example.com/webhook", "http"),
    ("localhost:8080", "http"),
    ("//example.com/webhook", "http"),
    ("/webhooks/inbound", "http"),
    ("http:example.com", "http"),
    ("http:/example.com", "http"),
    ("https:///example.com", "host"),
    ("http://", "host"),
    ("https://?x=1", "host"),
    ("https://#x", "host"),
    ("https://:443/", "host"),
    # backslashes, which browsers read as slashes
    ("http:\\\\example.com\\", "backslash"),
    ("https://example.com\\@evil.com/", "backslash"),
    ("https://example.com/path\\file", "backslash"),
    # user-info
    ("https://user@example.com/", "user name or password"),
    ("https://user:hunter2@example.com/", "user name or password"),
    ("https://:hunter2@example.com/", "user name or password"),
    ("https://@example.com/", "user name or password"),
    ("https://example.com@127.0.0.1/", "user name or password"),
    ("https://user:hunter2@[::1]:80/", "user name or password"),
    # port
    ("https://example.com:0/", "port"),
    ("https://example.com:65536/", "port"),
    ("https://example.com:99999/", "port"),
    ("https://example.com:-1/", "port"),
    ("https://example.com:+80/", "port"),
    ("https://example.com:http/", "port"),
    ("https://example.com:/", "port"),
    ("https://example.com:80:80/", "brackets"),
    ("https://[2606:4700::1111]:/", "port"),
    ("https://[2606:4700::1111]:0/", "port"),
    # malformed DNS names
    ("https://example..com/", "empty labels"),
    ("https://.example.com/", "empty labels"),
    ("https://example.com../", "empty labels"),
    ("https://./", "1 to 253"),
    ("https://-example.com/", "hyphen"),
    ("https://example-.com/", "hyphen"),
    ("https://ex!ample.com/", "letters, digits"),
    ("https://exa%6dple.com/", "letters, digits"),
    ("https://%31%32%37.0.0.1/", "IPv4"),
    ("https://exa*mple.com/", "letters, digits"),
    ("https://" + "a" * 64 + ".example.com/", "63"),
    ("https://" + ".".join(["a" * 62] * 4) + ".com/", "253"),
    # malformed IP literals
    ("https://1.2.3.256/", "IPv4"),
    ("https://256.0.0.1/", "IPv4"),
    ("https://1.2.3.4.5/", "IPv4"),
    ("https://4294967296/", "IPv4"),
    ("https://08.0.0.1/", "IPv4"),
    ("https://1.2.3.09/", "IPv4"),
    ("https://0x100.0.0.1/", "IPv4"),
    ("https://1.1.65536/", "IPv4"),
    ("https://example.123/", "IPv4"),
    ("https://example.0x1f/", "IPv4"),
    ("https://127..1/", "IPv4"),
    ("https://::1/", "brackets"),
    ("https://2606:4700::1111/", "brackets"),
    ("https://[::1/", "brackets"),
    ("https://[::1]x/", "brackets"),
    ("https://[127.0.0.1]/", "brackets"),
    ("https://[localhost]/", "brackets"),
    ("https://[v1.fe80::a+en1]/", "brackets"),
    ("https://[fe80::1%eth0]/", "brackets"),
    ("https://[fe80::1%25]/", "brackets"),
    ("https://[fe80::1%25eth 0]/", "spaces"),
    ("https://[::ffff:127.1]/", "brackets"),
    ("https://[1:2:3:4:5:6:7:8:9]/", "brackets"),
    ("https://[]/", "brackets"),
]


@pytest.mark.parametrize(("url", "rule"), INVALID)
@pytest.mark.parametrize("allow_private", [False, True])
def test_invalid(url: str, rule: str, allow_private: bool) -> None:
    with pytest.raises(UrlRuleError) as raised:
        check_webhook_url(url, allow_private=allow_private)
    error = raised.value
    assert error.code == INVALID_URL
    assert error.reason is None
    assert rule in error.message
    assert str(error) == error.message
    assert "hunter2" not in error.message
    if len(url) > 12:
        assert url not in error.message


def test_table_is_large() -> None:
    assert len(ACCEPTED) + len(BLOCKED) + len(INVALID) > 250


def test_rule_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="user name or password"):
        check_webhook_url("https://admin:hunter2@example.com/")


def test_longest_url_is_exactly_the_limit() -> None:
    assert len("https://example.com" + LONGEST_PATH) == MAX_URL_LENGTH


# --- parsing IP literals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0177.0x0.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("4294967295", "255.255.255.255"),
        ("0377.0377.0377.0377", "255.255.255.255"),
        ("1.16777215", "1.255.255.255"),
        ("1.2.65535", "1.2.255.255"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[fe80::1%25eth0]", "fe80::1%eth0"),
        ("fe80::1%eth0", "fe80::1%eth0"),
        ("2606:4700::1111", "2606:4700::1111"),
    ],
)
def test_parse_ip_literal(host: str, address: str) -> None:
    assert parse_ip_literal(host) == ip_address(address)


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "localhost",
        "",
        ".",
        "1.2.3.256",
        "1.2.3.4.5",
        "256.1",
        "1.16777216",
        "4294967296",
        "08",
        "0x1g",
        "1..2",
        ".1.2.3",
        "1.2.3.4..",
        "+1.2.3.4",
        "1_000",
        " 127.0.0.1",
        "127.0.0.1 ",
        "\uff11\uff12\uff17.0.0.1",
        "[127.0.0.1]",
        "[::1",
        "[fe80::1%25]",
        "[fe80::1%eth0]",
        "[fe80::1%25a/b]",
        "1" * 5000,
        "0x" + "f" * 5000,
    ],
)
def test_not_ip_literals(host: str) -> None:
    assert parse_ip_literal(host) is None


DIFFERENTIAL_SPELLINGS = [
    "127.0.0.1",
    "127.1",
    "127.0.1",
    "0x7f.1",
    "0X7F.0X1",
    "0177.1",
    "0177.0.0.01",
    "017700000001",
    "2130706433",
    "0xa9fea9fe",
    "10.0x10.020.1",
    "1.2.3.256",
    "1.2.3.4.5",
    "08.1",
    "0x.1",
    "0x1g",
    "1.2.3.",
    "4294967295",
    "4294967296",
    "0xffffffff",
    "0x100000000",
    "00000000000000000000000177.1",
    "255.255.65535",
    "255.255.65536",
]


@pytest.mark.parametrize("spelling", DIFFERENTIAL_SPELLINGS)
def test_ipv4_parsing_agrees_with_inet_aton(spelling: str) -> None:
    # socket.inet_aton is libc's parser, the one name resolution uses; it does no I/O.
    # Where it accepts a spelling we must read the same address; we accept more only
    # in the WHATWG direction (a bare "0x", a trailing dot).
    try:
        expected: IPv4Address | None = IPv4Address(socket.inet_aton(spelling))
    except OSError:
        expected = None
    parsed = parse_ip_literal(spelling)
    if expected is not None:
        assert parsed == expected
    else:
        assert parsed is None or spelling in {"0x.1", "1.2.3."}


def test_random_addresses_in_random_spellings_round_trip() -> None:
    rng = random.Random(20240611)
    for _ in range(2000):
        address = IPv4Address(rng.getrandbits(32))
        spelling = _random_spelling(rng, int(address))
        assert parse_ip_literal(spelling) == address, spelling
        assert IPv4Address(socket.inet_aton(spelling)) == address, spelling


def _random_spelling(rng: random.Random, value: int) -> str:
    octets = list(value.to_bytes(4, "big"))
    part_count = rng.randint(1, 4)
    parts = [*octets[: part_count - 1], int.from_bytes(bytes(octets[part_count - 1 :]), "big")]
    styles: list[Callable[[int], str]] = [
        str,
        lambda n: f"0x{n:x}",
        lambda n: f"0X{n:X}",
        lambda n: f"0{n:o}",
    ]
    return ".".join(rng.choice(styles)(part) for part in parts)


# --- classifying addresses ------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("0.0.0.0", "unspecified"),
        ("0.255.255.255", "unspecified"),
        ("1.0.0.0", None),
        ("9.255.255.255", None),
        ("10.0.0.0", "private"),
        ("11.0.0.0", None),
        ("100.63.255.255", None),
        ("100.64.0.0", "shared"),
        ("100.128.0.0", None),
        ("126.255.255.255", None),
        ("127.0.0.0", "loopback"),
        ("128.0.0.0", None),
        ("169.253.255.255", None),
        ("169.254.0.0", "link-local"),
        ("169.255.0.0", None),
        ("172.15.255.255", None),
        ("172.16.0.0", "private"),
        ("172.32.0.0", None),
        ("192.0.0.0", "reserved"),
        ("192.0.1.0", None),
        ("192.0.2.0", "documentation"),
        ("192.0.3.0", None),
        ("192.167.255.255", None),
        ("192.168.0.0", "private"),
        ("192.169.0.0", None),
        ("198.17.255.255", None),
        ("198.18.0.0", "benchmarking"),
        ("198.20.0.0", None),
        ("223.255.255.255", None),
        ("224.0.0.0", "multicast"),
        ("239.255.255.255", "multicast"),
        ("240.0.0.0", "reserved"),
        ("255.255.255.254", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("93.184.216.34", None),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::2", "unspecified"),
        ("::ffff:93.184.216.34", None),
        ("::ffff:127.0.0.1", "loopback"),
        ("64:ff9b::93.184.216.34", None),
        ("64:ff9b::192.168.0.1", "private"),
        ("2002:5db8:d822::1", None),
        ("2002:0a00:0001::1", "private"),
        ("2001:db8::", "documentation"),
        ("2606:4700::1111", None),
        ("2a00:1450:4001::200e", None),
        ("1fff:ffff::1", "reserved"),
        ("4000::", "reserved"),
        ("fbff::1", "reserved"),
        ("fc00::", "private"),
        ("fdff:ffff::1", "private"),
        ("fe80::", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("ff00::", "multicast"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast"),
    ],
)
def test_classify_address(address: str, reason: str | None) -> None:
    assert classify_address(address) == reason
    assert classify_address(ip_address(address)) == reason


def test_classify_address_accepts_bracketed_and_unusual_spellings() -> None:
    assert classify_address("[::1]") == "loopback"
    assert classify_address("0x7f.1") == "loopback"
    assert classify_address(IPv6Address("::ffff:a9fe:a9fe")) == "link-local"


@pytest.mark.parametrize("text", ["example.com", "", "1.2.3.256"])
def test_classify_address_refuses_names(text: str) -> None:
    with pytest.raises(ValueError, match="IP address"):
        classify_address(text)


@pytest.mark.parametrize(
    ("host", "blocked"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("localhost.", True),
        ("a.b.localhost", True),
        ("localhost.localdomain", True),
        ("ip6-localhost", True),
        ("ip6-loopback", True),
        ("printer.local", True),
        ("db.internal", True),
        ("nas.home.arpa", True),
        ("intranet", True),
        ("example.com", False),
        ("localhost.example.com", False),
        ("notlocalhost.com", False),
        ("local.example.com", False),
        ("internal.example.com", False),
        ("my-localhost.com", False),
    ],
)
def test_is_blocked_hostname(host: str, blocked: bool) -> None:
    assert is_blocked_hostname(host) is blocked
