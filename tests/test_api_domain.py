"""The api over HTTPS on its own name: config rules, the certificate and DNS it creates, and the
Terraform expressions that wire them, evaluated by `terraform console`.

What this cannot prove without AWS: that ACM issues the certificate once the validation record is
in the zone (AWS documents DNS validation this way), and that the zone id names a zone you own.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from infrakit.config import ConfigError, Environment, EnvironmentConfig
from infrakit.config.loader import load_environment
from tests.apply_graph import ApplyGraph
from tests.apply_order_rules import service_after_forwarding_listeners, violations
from tests.conftest import ENVIRONMENTS, synth
from tests.terraform_console import evaluate

CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def staging_with(**load_balancer: Any) -> dict[str, Any]:
    data = tomllib.loads((ENVIRONMENTS / "staging.toml").read_text())
    settings = {k: v for k, v in data["api"]["load_balancer"].items() if k not in load_balancer}
    data["api"]["load_balancer"] = {k: v for k, v in {**settings, **load_balancer}.items() if v is not None}
    return data


def environment(data: dict[str, Any]) -> Environment:
    return Environment(name="staging", file="staging.toml", config=EnvironmentConfig.model_validate(data))


def resources(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return list(document.get("resource", {}).get(kind, {}).values())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"domain_name": None, "hosted_zone_id": None}, "set domain_name and hosted_zone_id"),
        (
            {"domain_name": None, "hosted_zone_id": None, "certificate_arn": CERTIFICATE},
            "certificate_arn needs domain_name",
        ),
        ({"hosted_zone_id": None}, "domain_name needs hosted_zone_id"),
        ({"allow_plain_http": True}, "allow_plain_http contradicts domain_name"),
        ({"domain_name": "API.Example.com"}, "domain_name"),
        ({"hosted_zone_id": "zone-1"}, "hosted_zone_id"),
    ],
)
def test_load_balancer_config_errors_name_the_key_and_the_fix(tmp_path: Path, changes, message) -> None:
    path = tmp_path / "staging.toml"
    text = (ENVIRONMENTS / "staging.toml").read_text()
    for key, value in changes.items():
        text = re.sub(rf"(?m)^{key} = .*\n", "", text)
        if value is not None:
            rendered = "true" if value is True else json.dumps(value)
            text = text.replace("[api.load_balancer]\n", f"[api.load_balancer]\n{key} = {rendered}\n")
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    report = raised.value.report()
    assert "api.load_balancer" in report and message in report, report


@pytest.fixture(scope="module")
def staging() -> dict[str, Any]:
    return json.loads(synth(environment(staging_with())))


def test_a_domain_gets_a_dns_validated_certificate_and_an_alias(staging: dict[str, Any]) -> None:
    (certificate,) = resources(staging, "aws_acm_certificate")
    assert certificate["domain_name"] == "api.staging.example.com"
    assert certificate["validation_method"] == "DNS"
    assert certificate["lifecycle"]["create_before_destroy"] is True
    (validation,) = resources(staging, "aws_acm_certificate_validation")
    https = next(listener for listener in resources(staging, "aws_lb_listener") if listener["port"] == 443)
    # The listener takes the certificate from the validation, so it waits until ACM has issued it.
    assert https["certificate_arn"].startswith("${aws_acm_certificate_validation.")
    assert validation["certificate_arn"].startswith("${aws_acm_certificate.")
    alias = next(r for r in resources(staging, "aws_route53_record") if r["type"] == "A")
    assert alias["name"] == "api.staging.example.com" and alias["zone_id"] == "Z0000000000000000000"
    assert alias["alias"]["name"].startswith("${aws_lb.") and alias["alias"]["zone_id"].startswith(
        "${aws_lb."
    )
    assert staging["output"]["api_url"]["value"] == "https://api.staging.example.com"


def test_the_validation_record_expressions_evaluate_to_what_acm_asks_for(staging: dict[str, Any]) -> None:
    """ACM returns domain_validation_options as a set; the record reads its only element."""
    record = next(r for r in resources(staging, "aws_route53_record") if r["type"] != "A")
    templates = {key: record[key] for key in ("name", "type", "records")}
    (address,) = set(
        re.findall(r"aws_acm_certificate\.[\w-]+\.domain_validation_options", json.dumps(templates))
    )
    asked = {
        "domain_name": "api.staging.example.com",
        "resource_record_name": "_3f2a.api.staging.example.com.",
        "resource_record_type": "CNAME",
        "resource_record_value": "_9c1d.xlfgrmvvlj.acm-validations.aws.",
    }
    assert evaluate(templates, {address: [asked]}) == {
        "name": asked["resource_record_name"],
        "type": "CNAME",
        "records": [asked["resource_record_value"]],
    }


def test_a_certificate_you_bring_is_served_as_it_is() -> None:
    document = json.loads(synth(environment(staging_with(hosted_zone_id=None, certificate_arn=CERTIFICATE))))
    assert not resources(document, "aws_acm_certificate")
    assert not resources(document, "aws_route53_record")  # you point your name at the ALB yourself
    https = next(listener for listener in resources(document, "aws_lb_listener") if listener["port"] == 443)
    assert https["certificate_arn"] == CERTIFICATE
    assert document["output"]["api_url"]["value"] == "https://api.staging.example.com"
    # The service waits for the HTTPS listener, the one forwarding to its target group.
    graph = ApplyGraph.of(document)
    listeners = document["resource"]["aws_lb_listener"]
    # With blue/green (staging), also the listener rules that carry production and test traffic.
    rules = document["resource"].get("aws_lb_listener_rule", {})
    assert sorted(p[1] for p in service_after_forwarding_listeners(graph)) == sorted(
        [f"aws_lb_listener.{name}" for name, listener in listeners.items() if listener["port"] == 443]
        + [f"aws_lb_listener_rule.{name}" for name in rules]
    )
    assert not violations(service_after_forwarding_listeners, graph)


def test_protected_environments_cannot_serve_plain_http(tmp_path: Path) -> None:
    """staging and prod (deletion_protection = true) must have a domain: plain HTTP is refused."""
    path = tmp_path / "staging.toml"
    text = (ENVIRONMENTS / "staging.toml").read_text()
    text = re.sub(r"(?m)^(domain_name|hosted_zone_id) = .*\n", "", text)
    path.write_text(text.replace("[api.load_balancer]\n", "[api.load_balancer]\nallow_plain_http = true\n"))
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    assert "allow_plain_http is for disposable environments" in raised.value.report()


def test_a_certificate_from_another_region_is_refused_offline(tmp_path: Path) -> None:
    path = tmp_path / "staging.toml"
    foreign = CERTIFICATE.replace("eu-west-1", "us-east-1")
    text = re.sub(
        r"(?m)^hosted_zone_id = .*\n",
        f"certificate_arn = {json.dumps(foreign)}\n",
        (ENVIRONMENTS / "staging.toml").read_text(),
    )
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_environment(path)
    report = raised.value.report()
    assert "certificate_arn is in us-east-1" in report and "aws.region = eu-west-1" in report, report


def test_a_disposable_environment_may_serve_plain_http() -> None:
    data = tomllib.loads((ENVIRONMENTS / "dev.toml").read_text())
    data["api"]["load_balancer"] = {"allow_plain_http": True, "health_check_path": "/healthz"}
    document = json.loads(
        synth(Environment(name="dev", file="dev.toml", config=EnvironmentConfig.model_validate(data)))
    )
    (listener,) = resources(document, "aws_lb_listener")
    assert (listener["port"], listener["protocol"], listener["default_action"][0]["type"]) == (
        80,
        "HTTP",
        "forward",
    )
    assert not resources(document, "aws_acm_certificate")
    assert document["output"]["api_url"]["value"].startswith("http://${aws_lb.")
    # Here the HTTP listener forwards, so the service waits for it.
    graph = ApplyGraph.of(document)
    assert [p[1] for p in service_after_forwarding_listeners(graph)] == [
        f"aws_lb_listener.{name}" for name in document["resource"]["aws_lb_listener"]
    ]
    assert not violations(service_after_forwarding_listeners, graph)
