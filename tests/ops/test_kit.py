"""The operator's kit in ops/: the alerting rules pass promtool, the dashboard's queries parse,
and every metric either names is one a real server exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server.receiver import closed_port
from tests.server.served import demo_env, served
from tests.server.test_metrics import deliver

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "ops" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "ops" / "grafana" / "switchboard.json"
METRIC = re.compile(r"\bswitchboard_[a-z0-9_]+\b")
# Grafana's own variables, as Prometheus would see them once Grafana filled them in.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$instance": ".*"}
# What each metric type adds to its family's name in the text format.
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: install Debian's prometheus package (.ci/run does)")
    return found


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert queries, "the dashboard has no queries"
    return queries


def test_alerting_rules_pass_promtool() -> None:
    result = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_dashboard_queries_parse(tmp_path: Path) -> None:
    """Each query as a recording rule, so promtool parses it as Prometheus would."""
    lines = ["groups:", "  - name: dashboard", "    rules:"]
    for number, query in enumerate(dashboard_queries()):
        for variable, value in GRAFANA_VARIABLES.items():
            query = query.replace(variable, value)
        lines += [f"      - record: dashboard:query_{number}", f"        expr: {json.dumps(query)}"]
    rules = tmp_path / "dashboard-rules.yml"
    rules.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [promtool(), "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_every_metric_the_kit_names_is_exported(tmp_path: Path) -> None:
    demo = demo_env(tmp_path)
    async with served(demo.env, tmp_path / "serve.log", "--dev") as server:
        # Series with labels appear once something happened: an operation and a delivery.
        await deliver(server, demo, f"http://127.0.0.1:{closed_port()}/hook")
        samples = await server.scrape()
    exported = set(samples.names())
    for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", samples.text, re.MULTILINE):
        exported.update(family + suffix for suffix in SUFFIXES.get(kind, ("",)))
    named = set(METRIC.findall(RULES.read_text())) | {
        name for query in dashboard_queries() for name in METRIC.findall(query)
    }
    assert len(named) >= 10
    assert named - exported == set()
