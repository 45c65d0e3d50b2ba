"""The web firewall in front of the api (infrakit/constructs/aws/web_firewall.py): what its logs keep,
and where it lets request bodies over 8 KB through. Stated over the synthesized stacks of every
cloud environment, and over stacks synthesized from configs that set `large_body_paths`.

What no test here can prove: what AWS WAF does with the web ACL. That the Common Rule Set's
SizeRestrictions_BODY labels bodies over 8 KB with awswaf:managed:aws:core-rule-set:SizeRestrictions_Body
is AWS's documentation ("Baseline rule groups", AWS WAF Developer Guide); how the URL_DECODE and
NORMALIZE_PATH transformations rewrite a path is modelled below from their documented descriptions,
not run; and what WAF writes into a log record is AWS's to decide.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from infrakit.config import Environment, EnvironmentConfig
from infrakit.config.loader import ConfigError, load_environment
from tests.conftest import ENVIRONMENTS, synth

CLOUD = tuple(
    path.stem for path in sorted(ENVIRONMENTS.glob("*.toml")) if load_environment(path).config.uses_aws
)
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
SIZE_RULE = "SizeRestrictions_BODY"
SIZE_LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
CREDENTIAL_HEADERS = {"authorization", "cookie", "apikey"}
UPLOADS = ["/v1/documents", "/v1/uploads/"]
# A local copy of the hashicorp/aws provider, if this machine has one (`terraform validate` needs it).
PLUGIN_DIR = Path(os.environ.get("INFRAKIT_TF_PLUGIN_DIR", "/opt/tf-plugins"))


@pytest.fixture(scope="module")
def stacks(synthesized: Path) -> dict[str, dict[str, Any]]:
    return {env: json.loads((synthesized / "stacks" / env / "cdk.tf.json").read_text()) for env in CLOUD}


def only(stack: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = stack["resource"][kind].values()
    return dict(found)


def staging_with_large_body_paths(paths: Any) -> dict[str, Any]:
    """staging's stack, synthesized in process from its file with `large_body_paths` set."""
    data = tomllib.loads((ENVIRONMENTS / "staging.toml").read_text())
    data["api"]["load_balancer"]["large_body_paths"] = paths
    config = EnvironmentConfig.model_validate(data)
    document: dict[str, Any] = json.loads(
        synth(Environment(name="staging", file="staging.toml", config=config))
    )
    return document


# ----------------------------------------------------------------------------- a model of the rules


@dataclass(frozen=True)
class Request:
    path: str
    labels: frozenset[str]


def _normalize_path(path: str) -> str:
    """NORMALIZE_PATH as AWS describes it: multiple slashes, self-references (/./) and
    back-references (/x/../) removed. A model: whether WAF keeps a trailing slash is not documented."""
    parts: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if parts:
                parts.pop()
        elif segment not in ("", "."):
            parts.append(segment)
    normalized = "/" + "/".join(parts)
    return normalized + "/" if parts and path.endswith("/") else normalized


TRANSFORMATIONS = {"NONE": lambda s: s, "URL_DECODE": unquote, "NORMALIZE_PATH": _normalize_path}


def matches(statement: dict[str, Any], request: Request) -> bool:
    """Whether a rule statement, in Terraform's keys, matches the request. Only the statements this
    firewall writes for itself are modelled; any other raises."""
    ((kind, body),) = statement.items()
    if kind == "and_statement":
        return all(matches(s, request) for s in body["statement"])
    if kind == "or_statement":
        return any(matches(s, request) for s in body["statement"])
    if kind == "not_statement":
        (inner,) = body["statement"]
        return not matches(inner, request)
    if kind == "label_match_statement":
        assert body["scope"] == "LABEL"
        return body["key"] in request.labels
    if kind == "byte_match_statement":
        assert body["field_to_match"] == {"uri_path": {}}
        value = request.path
        for step in sorted(body["text_transformation"], key=lambda t: t["priority"]):
            value = TRANSFORMATIONS[step["type"]](value)
        assert body["positional_constraint"] == "STARTS_WITH"
        return value.startswith(body["search_string"])
    raise AssertionError(f"not modelled: {kind}")


def blocked_for_its_size(acl: dict[str, Any], path: str) -> bool:
    """Whether the web ACL blocks a request to `path` whose body is over 8 KB and which no other rule
    objects to: the Common Rule Set blocks it itself unless its size rule is overridden to count;
    then any later blocking rule of our own that matches its label blocks it."""
    rules = sorted(acl["rule"], key=lambda r: r["priority"])
    (common,) = [r for r in rules if r["name"] == COMMON_RULE_SET]
    group = common["statement"]["managed_rule_group_statement"]
    counted = [o for o in group.get("rule_action_override", []) if o["name"] == SIZE_RULE]
    if "count" not in common["override_action"] and not (
        counted and counted[0]["action_to_use"] == {"count": {}}
    ):
        return True
    request = Request(path, frozenset({SIZE_LABEL}))
    for rule in rules:
        if rule["priority"] <= common["priority"] or "block" not in rule.get("action", {}):
            continue
        if next(iter(rule["statement"])) in ("managed_rule_group_statement", "rate_based_statement"):
            continue  # AWS's rules, and a rate limit one request does not reach
        if matches(rule["statement"], request):
            return True
    return False


# ----------------------------------------------------------------------------- logs


def test_every_cloud_environment_is_checked():
    assert set(CLOUD) >= {"dev", "staging", "prod"}


@pytest.mark.parametrize("env", CLOUD)
def test_waf_logs_redact_the_credentials_clients_send(stacks, env):
    """The WAF log group keeps every request header for its retention (365 days and more); the
    headers that carry credentials are redacted, each in its own redacted_fields block and in lower
    case, as the provider's schema and the WAF API take them (hashicorp/aws
    internal/service/wafv2/web_acl_logging_configuration.go). Cannot prove: what AWS writes into a
    log record; and redaction does not cover sampled requests (LoggingConfiguration.RedactedFields,
    WAF API reference), which WAF keeps for 3 hours."""
    logging = only(stacks[env], "aws_wafv2_web_acl_logging_configuration")
    fields = logging.get("redacted_fields", [])
    assert all(len(field) == 1 for field in fields), fields
    headers = [field["single_header"]["name"] for field in fields if "single_header" in field]
    assert set(headers) >= CREDENTIAL_HEADERS, headers
    assert all(name == name.lower() for name in headers)
    assert len(headers) == len(set(headers))


# ----------------------------------------------------------------------------- large bodies


@pytest.mark.parametrize("env", CLOUD)
def test_by_default_large_bodies_pass_on_every_path(stacks, env):
    """With no `large_body_paths` in the file, SizeRestrictions_BODY only counts, and no rule of ours
    blocks on its label: a document upload over 8 KB reaches the api wherever it is posted.
    Cannot prove: that AWS applies the override (that is AWS's documented behaviour)."""
    acl = only(stacks[env], "aws_wafv2_web_acl")
    for path in ("/v1/documents", "/upload", "/"):
        assert not blocked_for_its_size(acl, path), path
    assert all(SIZE_LABEL not in json.dumps(r["statement"]) for r in acl["rule"])


@pytest.fixture(scope="module")
def two_upload_paths() -> dict[str, Any]:
    return staging_with_large_body_paths(UPLOADS)


@pytest.fixture(scope="module")
def one_upload_path() -> dict[str, Any]:
    return staging_with_large_body_paths(["/v1/documents"])


@pytest.mark.parametrize("stack", ["two_upload_paths", "one_upload_path"])
def test_configured_paths_reach_the_rule(stack, request):
    """`large_body_paths` in the file become the prefixes of the rule that blocks, right after the
    Common Rule Set, what its size rule labelled on any other path. Cannot prove: how WAF itself
    decodes and normalizes a path (modelled here from its documentation)."""
    document = request.getfixturevalue(stack)
    acl = only(document, "aws_wafv2_web_acl")
    rules = sorted(acl["rule"], key=lambda r: r["priority"])
    assert [r["priority"] for r in rules] == list(range(1, len(rules) + 1))
    names = [r["name"] for r in rules]
    assert names[:2] == [COMMON_RULE_SET, "large-bodies-only-on-upload-paths"]
    configured = UPLOADS if stack == "two_upload_paths" else ["/v1/documents"]
    statement = json.dumps(rules[1]["statement"])
    assert all(json.dumps(path) in statement for path in configured)

    allowed = ["/v1/documents", "/v1/documents/42/chunks", "/v1//documents/x", "/v1/%64ocuments"]
    blocked = ["/v1/admin", "/", "/v1/document", "/v1/documents/../admin", "/V1/documents"]
    if stack == "two_upload_paths":
        allowed.append("/v1/uploads/report.pdf")
        blocked.append("/v1/uploads")  # the prefix ends in a slash: only what lies below it
    for path in allowed:
        assert not blocked_for_its_size(acl, path), path
    for path in blocked:
        assert blocked_for_its_size(acl, path), path


def test_an_empty_list_keeps_aws_blocking_large_bodies_everywhere():
    """`large_body_paths = []` leaves the Common Rule Set as AWS ships it, and adds no rule."""
    acl = only(staging_with_large_body_paths([]), "aws_wafv2_web_acl")
    group = next(r for r in acl["rule"] if r["name"] == COMMON_RULE_SET)
    assert "rule_action_override" not in group["statement"]["managed_rule_group_statement"]
    assert "large-bodies-only-on-upload-paths" not in [r["name"] for r in acl["rule"]]
    assert blocked_for_its_size(acl, "/v1/documents")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["v1/documents"]', 'api.load_balancer.large_body_paths[0]: "v1/documents" is not a path prefix'),
        ('["/v1/*"]', 'api.load_balancer.large_body_paths[0]: "/v1/*" is not a path prefix'),
        ('["/v1/my%20docs"]', "api.load_balancer.large_body_paths[0]: "),
        ('["/v1/x?y=1"]', "api.load_balancer.large_body_paths[0]: "),
        ('["/v1/a", "/v1/../admin"]', "api.load_balancer.large_body_paths[1]: "),
        ('["/v1//a"]', "is not a normalized path"),
        ('["/", "/v1/documents"]', 'api.load_balancer.large_body_paths: "/" already covers every path'),
        ('["/v1/a", "/v1/a"]', "api.load_balancer.large_body_paths: large_body_paths lists a path twice"),
        (
            str([f"/p{i}" for i in range(11)]).replace("'", '"'),
            "large_body_paths: List should have at most 10",
        ),
        ('"/v1/documents"', "api.load_balancer.large_body_paths: Input should be a valid list"),
        (f'["/{"a" * 200}"]', "api.load_balancer.large_body_paths[0]: "),
    ],
)
def test_invalid_large_body_paths_are_refused_naming_the_file_and_key(tmp_path, value, expected):
    """Refused when the file is read, before any synth. Cannot prove: that every prefix accepted here
    is one WAF accepts (the length and character rules are the provider's, as read from its source)."""
    text = (ENVIRONMENTS / "prod.toml").read_text()
    anchor = 'health_check_path = "/healthz"\n'
    assert text.count(anchor) == 1
    path = tmp_path / "prod.toml"
    path.write_text(text.replace(anchor, f"{anchor}large_body_paths = {value}\n"))
    with pytest.raises(ConfigError) as refused:
        load_environment(path)
    messages = [str(problem) for problem in refused.value.problems]
    assert len(messages) == 1, messages
    assert "prod.toml: " in messages[0] and expected in messages[0], messages


@pytest.mark.skipif(
    shutil.which("terraform") is None or not (PLUGIN_DIR / "registry.terraform.io/hashicorp/aws").is_dir(),
    reason="needs terraform and a local copy of the hashicorp/aws provider",
)
def test_the_provider_schema_takes_the_rules(tmp_path, two_upload_paths, stacks):
    """`terraform validate` with the provider copy this machine has: the nested statements, the
    override and the redacted fields fit its schema (three levels of nesting at most, known text
    transformations). Cannot prove: that the pinned provider release takes them, when the local copy
    is another release; nor that the WAF API accepts them at apply."""
    (version,) = [p.name for p in (PLUGIN_DIR / "registry.terraform.io/hashicorp/aws").iterdir()]
    # Both web ACLs in one configuration: loading the provider's schema is most of the cost.
    acls: dict[str, Any] = {}
    loggings: dict[str, Any] = {}
    for name, document in (("configured", two_upload_paths), ("default", stacks["prod"])):
        acl = only(document, "aws_wafv2_web_acl")
        logging = only(document, "aws_wafv2_web_acl_logging_configuration")
        for resource in (acl, logging):
            resource.pop("//", None)
        acl["name"] = f"{acl['name']}-{name}"
        logging["resource_arn"] = f"${{aws_wafv2_web_acl.{name}.arn}}"
        logging["log_destination_configs"] = ["arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-x"]
        acls[name], loggings[name] = acl, logging
    config = {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": version}}},
        "provider": {"aws": {"region": "eu-west-1"}},
        "resource": {
            "aws_wafv2_web_acl": acls,
            "aws_wafv2_web_acl_logging_configuration": loggings,
        },
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(config))
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    for command in (["init", "-input=false", f"-plugin-dir={PLUGIN_DIR}"], ["validate", "-no-color"]):
        result = subprocess.run(
            ["terraform", *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
