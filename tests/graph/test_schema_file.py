"""schema.graphql is exactly what the code exports, and it holds the public contract."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from graph.schema import schema

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_TOOL = ROOT.parent / "shared" / "tools" / "check_contract.py"


def test_schema_file_matches_code() -> None:
    assert (ROOT / "schema.graphql").read_text() == str(schema) + "\n", (
        "schema.graphql is stale: run make schema"
    )


def test_the_whole_contract_is_present() -> None:
    if not CONTRACT_TOOL.exists():
        return
    spec = importlib.util.spec_from_file_location("check_contract", CONTRACT_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    contract = (CONTRACT_TOOL.parent.parent / "contract.graphql").read_text()
    assert module.compare(str(schema), contract) == []
