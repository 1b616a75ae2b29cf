"""The port rule for test deliveries: parsing the settings and the default deny list."""

from __future__ import annotations

import pytest

from signing.ports import DEFAULT_PORT_RULE, PortRule, parse_ports


def test_the_default_rule_allows_web_ports_and_refuses_services() -> None:
    for port in (80, 443, 1024, 8080, 8443, 40000, 65535):
        assert DEFAULT_PORT_RULE.refusal(port) is None, port
    for port in (22, 25, 53, 110, 1023):
        assert "not among the ports" in (DEFAULT_PORT_RULE.refusal(port) or ""), port
    for port in (3306, 5432, 6379, 9200, 11211, 27017, 2375, 3389):
        assert "never receives webhooks" in (DEFAULT_PORT_RULE.refusal(port) or ""), port


def test_lists_and_ranges_parse() -> None:
    assert parse_ports(" 80, 443 ,8000-8002,") == {80, 443, 8000, 8001, 8002}
    assert parse_ports("") == frozenset()
    assert PortRule.parse("1-100", "22").refusal(22) is not None


@pytest.mark.parametrize("text", ["http", "80-", "0", "70000", "90-80", "1-2-3"])
def test_bad_lists_name_the_piece(text: str) -> None:
    with pytest.raises(ValueError, match="is not"):
        parse_ports(text)
