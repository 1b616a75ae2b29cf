"""Master and session keys from the environment: rings, weak keys refused at start, keygen."""

from __future__ import annotations

import subprocess
import sys

import pytest

from server.settings import Settings, SettingsError
from signing.crypto import format_master_key, generate_master_key, parse_master_key


@pytest.mark.parametrize(
    ("value", "reason"),
    [("00" * 32, "all zeros"), ("ab" * 32, "repeated pattern"), ("00" * 16, "too short")],
)
def test_weak_keys_are_refused_at_start_naming_the_variable(value: str, reason: str) -> None:
    for name in ("SWITCHBOARD_SECRET_KEY", "SWITCHBOARD_SECRET_KEYS", "SWITCHBOARD_SESSION_KEYS"):
        env = {"SWITCHBOARD_SECRET_KEY": format_master_key(generate_master_key()), name: value}
        if name == "SWITCHBOARD_SECRET_KEYS":
            env.pop("SWITCHBOARD_SECRET_KEY")
        with pytest.raises(SettingsError, match=reason) as raised:
            Settings.from_env(env)
        assert name in str(raised.value) and value not in str(raised.value)


def test_a_ring_has_the_active_key_first_and_a_single_key_is_a_ring_of_one() -> None:
    new, old, session = (generate_master_key() for _ in range(3))
    ring = ",".join(format_master_key(key) for key in (new, old))
    settings = Settings.from_env(
        {"SWITCHBOARD_SECRET_KEYS": ring, "SWITCHBOARD_SESSION_KEYS": session.hex()}
    )
    assert (settings.master_key, settings.old_master_keys) == (new, (old,))
    assert settings.session_keys == (session,)
    single = Settings.from_env({"SWITCHBOARD_SECRET_KEY": new.hex()})
    assert (single.master_key, single.old_master_keys, single.session_keys) == (new, (), ())
    with pytest.raises(SettingsError, match="not both"):
        Settings.from_env({"SWITCHBOARD_SECRET_KEYS": ring, "SWITCHBOARD_SECRET_KEY": new.hex()})


def test_keygen_prints_a_fresh_key_and_needs_no_settings() -> None:
    runs = [
        subprocess.run(
            [sys.executable, "-m", "server.cli", "keygen"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={"DATABASE_URL": "postgres://nowhere/none"},
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs[0] != runs[1]
    assert all(len(parse_master_key(text)) == 32 for text in runs)
