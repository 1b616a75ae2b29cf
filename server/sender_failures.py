"""What a failed or oversized webhook attempt is told: fixed sentences and capped headers."""

from __future__ import annotations

import ssl

import httpx

from resolvers.webhook_sender import AttemptOutcome, FailureCode

# Headers are capped like the body: more than MAX_HEADER_BYTES is TOO_LARGE, and at most
# SHOWN_HEADER_BYTES are stored. Without a cap a receiver could make one step hold ~100 KB
# (httpcore's own header limit).
MAX_HEADER_BYTES = 16 * 1024
SHOWN_HEADER_BYTES = 4 * 1024


def connect_failure(error: httpx.ConnectError) -> AttemptOutcome:
    cause: BaseException | None = error
    for _ in range(8):  # httpx wraps httpcore, which wraps the ssl error: a short chain
        if cause is None:
            break
        if isinstance(cause, ssl.SSLError):
            detail = f"The TLS handshake failed: {reason(cause)}."
            return AttemptOutcome(detail, error_code=FailureCode.TLS_ERROR)
        cause = cause.__cause__ or cause.__context__
    detail = f"Could not connect: {reason(error)}."
    return AttemptOutcome(detail, error_code=FailureCode.CONNECT_FAILED)


# Fixed sentences per failure class. An exception's own text may quote what the peer sent
# (`illegal status line: b'SSH-2.0-OpenSSH…'`), which would make test deliveries a banner
# grabber: only the class of failure is ever told.
_FAILURE_SENTENCES: tuple[tuple[type[BaseException], str], ...] = (
    (httpx.RemoteProtocolError, "the answer was not valid HTTP/1.1"),
    (httpx.LocalProtocolError, "the request could not be sent as valid HTTP/1.1"),
    (httpx.ReadError, "the connection broke while reading the answer"),
    (httpx.WriteError, "the connection broke while sending the request"),
    (httpx.CloseError, "the connection broke while closing"),
    (httpx.ProxyError, "a proxy refused the connection"),
    (httpx.UnsupportedProtocol, "the URL's scheme is not supported"),
    (httpx.ConnectError, "the connection could not be opened"),
    (ssl.SSLError, "the TLS handshake did not complete"),
    (UnicodeError, "the host name is not valid"),
)


def reason(error: BaseException) -> str:
    """Why an attempt failed, in words chosen here: never bytes the peer sent."""
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return error.verify_message  # OpenSSL's own words about our verification
    for cause in [error, *_causes(error)]:
        if isinstance(cause, OSError) and not isinstance(cause, ssl.SSLError) and cause.strerror:
            return cause.strerror  # the operating system's words, e.g. "Connection refused"
    for kind, sentence in _FAILURE_SENTENCES:
        if isinstance(error, kind):
            return sentence
    return "the exchange failed"


def _causes(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    cause = error.__cause__ or error.__context__
    while cause is not None and len(found) < 8:
        found.append(cause)
        cause = cause.__cause__ or cause.__context__
    return found


def shown_headers(raw: list[tuple[bytes, bytes]]) -> tuple[list[list[str]], int]:
    """The headers that fit in SHOWN_HEADER_BYTES, in order, and how many did not."""
    shown: list[tuple[bytes, bytes]] = []
    size = 0
    for name, value in raw:
        size += len(name) + len(value)
        if size > SHOWN_HEADER_BYTES:
            break
        shown.append((name, value))
    return header_pairs(shown), len(raw) - len(shown)


def header_pairs(raw: list[tuple[bytes, bytes]]) -> list[list[str]]:
    return [[name.decode("latin-1"), value.decode("latin-1")] for name, value in raw]
