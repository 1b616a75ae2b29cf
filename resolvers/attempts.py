"""Failed key-and-secret attempts: who may still be judged, and what a failure counts against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from resolvers.deps import Deps
from resolvers.ratelimit import CredentialLimits


@dataclass(frozen=True)
class AttemptGuard:
    """Failures counted per client address, per (key, address) and per key, whichever door
    they come through (HTTP, WebSocket, sessionCreate), so alternating buys nothing.

    No source can lock another out of a key: the per-key count alone never refuses anyone.
    Once it is spent (a guess spread over many addresses) each address is judged only while
    it has made fewer than `tries_under_attack` failures against that key: the owner, whose
    address has not been failing, still gets in with the right secret; an attacker gets a
    few guesses per address per window.
    """

    limits: CredentialLimits
    address: str
    key: str | None

    @property
    def _key_label(self) -> str:
        # Longer values cannot be keys; cutting them bounds what one failure stores.
        return f"key:{(self.key or '')[:32]}"

    @property
    def _source_label(self) -> str:
        return f"{self._key_label}|address:{self.address}"

    async def wait(self, now: datetime) -> float:
        """Seconds until another attempt may be judged (0: now); checked before the
        credentials, so a right guess past the limit is never confirmed."""
        limits = self.limits
        waits = [await limits.login_failures_by_address.retry_after(f"address:{self.address}", now)]
        if self.key is not None:
            by_source = limits.login_failures_by_key_source
            waits.append(await by_source.retry_after(self._source_label, now))
            under_attack = await limits.login_failures_by_key.retry_after(self._key_label, now)
            if under_attack > 0:
                tries = await by_source.count(self._source_label, now)
                if tries >= limits.tries_under_attack:
                    waits.append(under_attack)
        return max(waits)

    async def failed(self, now: datetime) -> None:
        limits = self.limits
        await limits.login_failures_by_address.hit(f"address:{self.address}", now)
        if self.key is not None:
            await limits.login_failures_by_key_source.hit(self._source_label, now)
            await limits.login_failures_by_key.hit(self._key_label, now)


def attempt_guard(*, deps: Deps, client_address: str | None, api_key: str | None) -> AttemptGuard:
    return AttemptGuard(deps.credential_limits, client_address or "unknown", api_key)
