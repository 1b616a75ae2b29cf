"""Makes the browser tests' accounts in one process (the operator CLI would start one per
account and per number): `python -m tests.console.provision COUNT FIRST_MSISDN` prints a JSON
list of accounts, each with one number; the first also has HIPAA enabled."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from graph.relay import to_global_id
from resolvers import provisioning
from server.app import build_deps
from server.cli import database
from server.settings import Settings


async def provision(count: int, first_msisdn: int) -> list[dict[str, Any]]:
    settings = Settings.from_env()
    deps = build_deps(settings)
    made = []
    async with database(settings):
        for n in range(count):
            account, key, secret = await provisioning.create_account(
                deps=deps, name=f"Console test {n}"
            )
            await provisioning.add_number(
                api_key=key.key, msisdn=str(first_msisdn + n), country="GB"
            )
            if n == 0:
                await provisioning.set_hipaa(account_id=account.id, enabled=True)
            made.append(
                {
                    "accountId": to_global_id("Account", account.id),
                    "apiKey": key.key,
                    "apiSecret": secret,
                    "msisdn": str(first_msisdn + n),
                }
            )
    return made


if __name__ == "__main__":
    print(json.dumps(asyncio.run(provision(int(sys.argv[1]), int(sys.argv[2])))))
