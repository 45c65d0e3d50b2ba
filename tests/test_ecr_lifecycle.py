"""Each ECR repository has a lifecycle policy: the image the environment file names never expires,
the newest `keep_tagged_images` tagged images are kept, untagged images expire after a few days.

There is no ECR here, so the policy text is checked three ways, none of them ECR's own validator:
against the PutLifecyclePolicy request model AWS publishes in botocore (required members, length,
repository name pattern); against the rules the ECR user guide states for a policy ("Lifecycle
policy properties"); and by running the evaluation the guide describes ("Lifecycle policy evaluation
rules") over made-up repositories. A policy that ECR refuses for a reason the guide does not state,
or an evaluator that behaves otherwise than documented, passes here: `aws ecr
start-lifecycle-policy-preview` on a real repository is the check this cannot replace.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator
from pydantic import ValidationError

from infrakit.config import Environment, EnvironmentConfig
from infrakit.config.loader import load_environment
from infrakit.constructs.aws.image_repository import UNTAGGED_DAYS, lifecycle_policy
from tests.conftest import ENVIRONMENTS, in_process_app

CLOUD = ("dev", "staging", "prod")
SERVICES = ("api", "worker")


def images_stack(synthesized: Path, env: str) -> dict[str, Any]:
    return json.loads((synthesized / "stacks" / f"{env}-images" / "cdk.tf.json").read_text())


def policies_by_repository(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Repository name -> its lifecycle policy, parsed; each repository must have exactly one."""
    repositories = stack["resource"]["aws_ecr_repository"]
    policies = stack["resource"].get("aws_ecr_lifecycle_policy", {}).values()
    found: dict[str, dict[str, Any]] = {}
    for logical, repository in repositories.items():
        own = [p for p in policies if p["repository"] == f"${{aws_ecr_repository.{logical}.name}}"]
        assert len(own) == 1, f"{repository['name']} has {len(own)} lifecycle policies"
        found[repository["name"]] = json.loads(own[0]["policy"])
    return found


# ----------------------------------------------------------------------------- the documented rules


def request_problems(repository: str, text: str) -> list[str]:
    """What AWS's own request model for PutLifecyclePolicy (botocore's ECR service model) says is
    wrong with this request: botocore's validator (required members, minimum lengths), and the
    maximum lengths and name pattern the model declares, which that validator leaves to the server."""
    shape = get_session().get_service_model("ecr").operation_model("PutLifecyclePolicy").input_shape
    params = {"repositoryName": repository, "lifecyclePolicyText": text}
    report = ParamValidator().validate(params, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    for member, value in params.items():
        metadata = shape.members[member].metadata
        if len(value) > metadata.get("max", len(value)):
            problems.append(f"{member} is longer than {metadata['max']}")
        if "pattern" in metadata and not re.fullmatch(metadata["pattern"], value):
            problems.append(f"{member} does not match {metadata['pattern']}")
    return problems


COUNT_TYPES = {"imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned"}


def rule_problems(policy: Any) -> list[str]:
    """Where the policy breaks a rule the ECR user guide states ("Lifecycle policy properties" and
    "Lifecycle policy evaluation rules"); an empty list when it breaks none of them."""
    if not isinstance(policy, dict) or set(policy) != {"rules"} or not isinstance(policy["rules"], list):
        return ['a policy is {"rules": [...]} and nothing else']
    problems, priorities, tag_sets, untagged = [], [], [], 0
    for index, rule in enumerate(policy["rules"]):
        where = f"rule {index}"
        unknown = set(rule) - {"rulePriority", "description", "selection", "action"}
        if unknown:
            problems.append(f"{where}: unknown properties {sorted(unknown)}")
        priority = rule.get("rulePriority")
        if not isinstance(priority, int) or isinstance(priority, bool) or priority < 1:
            problems.append(f"{where}: rulePriority must be an integer of 1 or more")
        priorities.append(priority)
        selection = rule.get("selection", {})
        status = selection.get("tagStatus")
        patterns, prefixes = selection.get("tagPatternList"), selection.get("tagPrefixList")
        if status == "tagged":
            if not patterns and not prefixes:
                problems.append(f"{where}: tagged needs tagPatternList or tagPrefixList")
            for pattern in patterns or []:
                if pattern.count("*") > 4:
                    problems.append(f"{where}: at most four wildcards in {pattern!r}")
            tag_sets.append(tuple(sorted(patterns or prefixes or [])))
        elif status == "untagged":
            untagged += 1
            if patterns is not None or prefixes is not None:
                problems.append(f"{where}: untagged must omit tagPatternList and tagPrefixList")
        elif status != "any":
            problems.append(f"{where}: tagStatus must be tagged, untagged or any")
        count_type, unit, number = (selection.get(k) for k in ("countType", "countUnit", "countNumber"))
        if count_type not in COUNT_TYPES:
            problems.append(f"{where}: countType {count_type!r} is not one of {sorted(COUNT_TYPES)}")
        if count_type == "imageCountMoreThan" and unit is not None:
            problems.append(f"{where}: countUnit is only for the since* count types")
        if count_type != "imageCountMoreThan" and unit != "days":
            problems.append(f"{where}: {count_type} needs countUnit days")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            problems.append(f"{where}: countNumber must be a positive integer")
        if rule.get("action") != {"type": "expire"}:
            problems.append(f"{where}: action must be {{'type': 'expire'}}")
    if len(set(priorities)) != len(priorities):
        problems.append("rulePriority values must be unique")
    if len(set(tag_sets)) != len(tag_sets):
        problems.append("the rules must have a unique set of tag patterns or prefixes")
    if untagged > 1:
        problems.append("only one rule may select untagged images")
    anys = [r["rulePriority"] for r in policy["rules"] if r.get("selection", {}).get("tagStatus") == "any"]
    if anys and max(anys) != max(p for p in priorities if isinstance(p, int)):
        problems.append("a rule with tagStatus any must have the highest rulePriority")
    return problems


# ----------------------------------------------------------------------------- the documented evaluation


@dataclass(frozen=True)
class Image:
    digest: str
    tags: tuple[str, ...]
    pushed_days_ago: float


def _matches(pattern: str, tag: str) -> bool:
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), tag) is not None


def expired(policy: dict[str, Any], images: list[Image]) -> set[str]:
    """The digests ECR expires, by the evaluation rules the ECR user guide states: rules apply in
    rulePriority order; an image that matches the tagging requirements of a rule cannot be expired
    by a rule with a lower priority, though lower rules still count it; imageCountMoreThan sorts the
    images it selects youngest first by push time and expires those past the count;
    sinceImagePushed expires those pushed more than countNumber days ago; with tagPatternList (or
    tagPrefixList) an image matches when every pattern matches one of its tags."""

    def selects(selection: dict[str, Any], image: Image) -> bool:
        status = selection["tagStatus"]
        if status == "any":
            return True
        if status == "untagged":
            return not image.tags
        if "tagPatternList" in selection:
            return bool(image.tags) and all(
                any(_matches(p, t) for t in image.tags) for p in selection["tagPatternList"]
            )
        return bool(image.tags) and all(
            any(t.startswith(p) for t in image.tags) for p in selection["tagPrefixList"]
        )

    gone: set[str] = set()
    claimed: set[str] = set()  # matched by the tagging requirements of a higher-priority rule
    for rule in sorted(policy["rules"], key=lambda r: r["rulePriority"]):
        selection = rule["selection"]
        chosen = [image for image in images if selects(selection, image)]
        if selection["countType"] == "imageCountMoreThan":
            youngest_first = sorted(chosen, key=lambda i: i.pushed_days_ago)
            past = youngest_first[selection["countNumber"] :]
        else:
            past = [i for i in chosen if i.pushed_days_ago > selection["countNumber"]]
        gone |= {image.digest for image in past if image.digest not in claimed}
        claimed |= {image.digest for image in chosen}
    return gone


def releases(count: int) -> list[Image]:
    """`count` tagged releases 1.0.<n>, one a day, the newest pushed today."""
    return [Image(f"sha256:{n:064x}", (f"1.0.{n}",), float(count - n)) for n in range(1, count + 1)]


# ----------------------------------------------------------------------------- the synthesized policies


@pytest.mark.parametrize("env", CLOUD)
def test_every_repository_has_a_lifecycle_policy_that_keeps_its_deployed_tag(
    synthesized: Path, env: str
) -> None:
    """Each repository of `<env>-images` has one lifecycle policy: rule 1 selects exactly the tag the
    environment file deploys, untagged images expire after UNTAGGED_DAYS days, and the count of
    tagged images kept is the service's keep_tagged_images. It cannot prove what ECR does with it."""
    config = load_environment(ENVIRONMENTS / f"{env}.toml").config
    policies = policies_by_repository(images_stack(synthesized, env))
    assert sorted(policies) == [f"infrakit-{env}-{service}" for service in SERVICES]
    for service in SERVICES:
        service_config = getattr(config, service)
        rules = {r["rulePriority"]: r["selection"] for r in policies[f"infrakit-{env}-{service}"]["rules"]}
        assert rules == {
            1: {
                "tagStatus": "tagged",
                "tagPatternList": [service_config.image_tag],
                "countType": "imageCountMoreThan",
                "countNumber": 1,
            },
            2: {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": UNTAGGED_DAYS,
            },
            3: {
                "tagStatus": "tagged",
                "tagPatternList": ["*"],
                "countType": "imageCountMoreThan",
                "countNumber": service_config.keep_tagged_images,
            },
        }


@pytest.mark.parametrize("env", CLOUD)
def test_every_policy_is_a_valid_put_lifecycle_policy_request(synthesized: Path, env: str) -> None:
    """Each policy, as the text Terraform sends, passes AWS's request model for PutLifecyclePolicy
    and every rule the ECR user guide states for a policy. It cannot prove ECR accepts it (see the
    module docstring)."""
    stack = images_stack(synthesized, env)
    for logical, body in stack["resource"]["aws_ecr_lifecycle_policy"].items():
        name = next(
            r["name"]
            for k, r in stack["resource"]["aws_ecr_repository"].items()
            if body["repository"] == f"${{aws_ecr_repository.{k}.name}}"
        )
        assert request_problems(name, body["policy"]) == [], logical
        assert rule_problems(json.loads(body["policy"])) == [], logical


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            lambda p: p["rules"][2]["selection"].update(countNumber=0),
            "countNumber must be a positive integer",
        ),
        (lambda p: p["rules"][1]["selection"].update(tagPatternList=["*"]), "untagged must omit"),
        (lambda p: p["rules"][0]["selection"].pop("tagPatternList"), "tagged needs tagPatternList"),
        (lambda p: p["rules"][2].update(rulePriority=1), "rulePriority values must be unique"),
        (lambda p: p["rules"][0]["selection"].update(countUnit="days"), "countUnit is only for"),
    ],
    ids=["zero-count", "untagged-with-pattern", "tagged-without-pattern", "same-priority", "unit-on-count"],
)
def test_the_rule_check_refuses_what_the_guide_forbids(change: Any, complaint: str) -> None:
    """The rule check above is not vacuous: each planted break of a documented rule is reported. It
    cannot show that the check knows every rule ECR enforces."""
    policy = lifecycle_policy("1.0.0", 10)
    assert rule_problems(policy) == []
    change(policy)
    assert any(complaint in problem for problem in rule_problems(policy)), rule_problems(policy)


def test_the_deployed_tag_survives_however_many_newer_images_are_pushed() -> None:
    """With 50 newer releases pushed after it, the deployed 1.0.1 is kept, and so are the 10 newest;
    the 39 between go. By the documented evaluation: rule 1 matches the deployed tag alone and its
    count of 1 never expires it, and no lower-priority rule may expire an image rule 1 matches. It
    cannot prove ECR's evaluator behaves as its guide says."""
    images = releases(51)
    gone = expired(lifecycle_policy("1.0.1", 10), images)
    kept = {image.tags[0] for image in images if image.digest not in gone}
    assert kept == {"1.0.1"} | {f"1.0.{n}" for n in range(42, 52)}


def test_without_the_deployed_tag_rule_the_same_repository_would_lose_the_running_image() -> None:
    """The same repository under the count rule alone expires 1.0.1: it is rule 1 that keeps the
    deployed image, not the count. (It shows the simulation tells the two apart.)"""
    policy = lifecycle_policy("1.0.1", 10)
    policy["rules"] = [r for r in policy["rules"] if r["rulePriority"] != 1]
    images = releases(51)
    assert images[0].digest in expired(policy, images)


def test_untagged_images_go_after_the_untagged_days_and_tagged_ones_are_not_counted_with_them() -> None:
    """Untagged images pushed more than UNTAGGED_DAYS days ago are expired, younger ones kept, and
    none of them counts towards the tagged images kept. It cannot prove how ECR treats an untagged
    image an image index still references (its API refuses to delete one:
    ImageReferencedByManifestList); docs/operations.md says so."""
    untagged = [
        Image(f"sha256:{n:063x}f", (), float(days)) for n, days in enumerate((1, UNTAGGED_DAYS + 1, 30))
    ]
    images = releases(3) + untagged
    gone = expired(lifecycle_policy("1.0.3", 2), images)
    assert gone == {untagged[1].digest, untagged[2].digest, images[0].digest}


def test_a_rollback_target_older_than_the_newest_n_pushes_can_expire() -> None:
    """The honest limit: the release before the deployed one is kept only while it is among the
    newest keep_tagged_images pushes. Deployed 1.0.12 with 1.0.1 before it, and 11 images pushed in
    between that were never deployed: with keep 10, 1.0.1 expires, so a rollback to it would fail
    (the image check before deploy names it). Raising keep_tagged_images is the remedy docs/operations.md
    gives. It cannot prove how many images a given CI pushes."""
    images = releases(13)
    gone = expired(lifecycle_policy("1.0.12", 10), images)
    assert images[0].digest in gone
    assert images[11].digest not in gone


# ----------------------------------------------------------------------------- the setting


def cloud_data(env: str) -> dict[str, Any]:
    return tomllib.loads((ENVIRONMENTS / f"{env}.toml").read_text())


@pytest.mark.parametrize(
    ("value", "refusal"),
    [
        (0, "greater_than_equal"),
        (1, "greater_than_equal"),
        (1001, "less_than_equal"),
        ("many", "int_parsing"),
    ],
)
def test_keep_tagged_images_below_two_or_absurdly_high_is_a_configuration_error(
    value: Any, refusal: str
) -> None:
    """keep_tagged_images must be 2 to 1000: one is not enough for the image a rollback returns to
    to survive a single newer push. It cannot prove that 2 is enough for a given release cadence."""
    data = cloud_data("dev")
    data["worker"]["keep_tagged_images"] = value
    with pytest.raises(ValidationError) as raised:
        EnvironmentConfig.model_validate(data)
    assert [(e["loc"], e["type"]) for e in raised.value.errors()] == [
        (("worker", "fargate", "keep_tagged_images"), refusal)
    ]


def test_keep_tagged_images_defaults_to_twenty() -> None:
    """Unset, each service keeps its 20 most recently pushed tagged images."""
    config = EnvironmentConfig.model_validate(cloud_data("dev"))
    assert config.api.keep_tagged_images == config.worker.keep_tagged_images == 20


def test_each_service_keeps_the_number_its_own_table_sets() -> None:
    """A value set under [api] reaches the api repository's policy and not the worker's, through a
    real synth of the images stack. It cannot prove anything about ECR."""
    from infrakit import jsii_node

    jsii_node.configure()
    from infrakit.cdk import Testing
    from infrakit.stacks.images_stack import ImagesStack

    data = cloud_data("dev")
    data["api"]["keep_tagged_images"] = 7
    data["api"]["image_tag"] = "2.3.4"
    environment = Environment(name="dev", file="dev.toml", config=EnvironmentConfig.model_validate(data))
    stack = json.loads(Testing.synth(ImagesStack(in_process_app(), environment)))
    policies = policies_by_repository(stack)
    api = {r["rulePriority"]: r["selection"] for r in policies["infrakit-dev-api"]["rules"]}
    worker = {r["rulePriority"]: r["selection"] for r in policies["infrakit-dev-worker"]["rules"]}
    assert (api[1]["tagPatternList"], api[3]["countNumber"]) == (["2.3.4"], 7)
    assert (worker[1]["tagPatternList"], worker[3]["countNumber"]) == (["0.1.0"], 20)
