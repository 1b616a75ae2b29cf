"""Persisted (trusted) documents: operations known by ID from a manifest, and the operator's
rule that browser sessions may run nothing else."""

# The console's build writes every operation it sends into a manifest; the server reads it once
# at startup. The console then sends IDs, never query text, and an operator can refuse any
# other text from sessions: a stolen session token cannot run arbitrary queries. Integrations
# that authenticate with Basic keep sending their own documents.

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from cross_web import HTTPException

# Where an ID may arrive, in the order they are read: the GraphQL over HTTP persisted documents
# draft (`documentId`), then the names Relay's persisted-query examples send.
ID_FIELDS = ("documentId", "doc_id", "id")
# An ID may carry its hash algorithm ("sha256:<hex>", the draft's form) or not (Relay's form).
_ALGORITHM_PREFIXES = ("sha256:", "sha1:", "md5:")
_MAX_ID_LENGTH = 200

NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
REQUIRED = "PERSISTED_DOCUMENT_REQUIRED"


class TrustedDocumentsOnly(StrEnum):
    """Which requests may only run documents of the manifest."""

    OFF = "off"
    # Bearer (session) and unauthenticated requests; Basic-auth integrations send any query.
    SESSIONS = "sessions"
    ALL = "all"


class PersistedDocumentError(HTTPException):
    """A request the persisted-documents rules refuse: 400 with its own error code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(400, reason)
        self.code = code


class ManifestError(RuntimeError):
    """The manifest cannot be read or is not a JSON object of ID to document text."""


def _bare(document_id: str) -> str:
    for prefix in _ALGORITHM_PREFIXES:
        if document_id.startswith(prefix):
            return document_id[len(prefix) :]
    return document_id


@dataclass(frozen=True)
class PersistedDocuments:
    by_id: Mapping[str, str] = field(default_factory=dict)
    texts: frozenset[str] = frozenset()
    source: Path | None = None

    @classmethod
    def load(cls, path: Path | None) -> PersistedDocuments:
        """The manifest at `path` ({"<id>": "<document text>", ...}); none when `path` is None."""
        if path is None:
            return cls()
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise ManifestError(f"persisted documents manifest {path}: {error}") from None
        if not isinstance(manifest, dict) or not all(
            isinstance(key, str) and isinstance(text, str) and key and text
            for key, text in manifest.items()
        ):
            raise ManifestError(
                f"persisted documents manifest {path} must be a JSON object of "
                '"<id>": "<document text>" pairs'
            )
        by_id = {_bare(key): text for key, text in manifest.items()}
        return cls(by_id=by_id, texts=frozenset(by_id.values()), source=path)

    def document(
        self, params: Mapping[str, Any], query: str | None, *, trusted_only: bool
    ) -> str | None:
        """The text a request runs: its document by ID, or its own `query` when allowed.

        `params` are the request's top-level members (JSON body, query string or WebSocket
        subscribe payload)."""
        given = [params[name] for name in ID_FIELDS if params.get(name) is not None]
        if not given:
            if trusted_only and query is not None and query not in self.texts:
                raise PersistedDocumentError(
                    REQUIRED,
                    "This server runs only its console's persisted documents for sessions: "
                    "send `documentId` instead of `query` (or authenticate with Basic).",
                )
            return query
        document_id = given[0]
        if not isinstance(document_id, str) or any(other != document_id for other in given):
            raise PersistedDocumentError(
                "BAD_REQUEST", "`documentId` must be one string (doc_id and id are its aliases)."
            )
        text = self.by_id.get(_bare(document_id)) if len(document_id) <= _MAX_ID_LENGTH else None
        if text is None:
            raise PersistedDocumentError(
                NOT_FOUND,
                "No persisted document has this documentId; the console may be newer than the "
                "server's manifest: reload the page after the server restarts.",
            )
        if query and query != text:
            raise PersistedDocumentError(
                "BAD_REQUEST", "Send `query` or `documentId`, not two different documents."
            )
        return text


def trusted_only_for(mode: TrustedDocumentsOnly, authorization: str | None) -> bool:
    """Whether a request with this Authorization header may run only persisted documents."""
    if mode is TrustedDocumentsOnly.OFF:
        return False
    if mode is TrustedDocumentsOnly.ALL:
        return True
    return not (authorization or "").lstrip().lower().startswith("basic ")
