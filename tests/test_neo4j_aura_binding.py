"""The hand-written Neo4j Aura bindings emit exactly the provider's arguments (neo4j-labs/neo4jaura
0.0.2-beta), take credentials only as Terraform references, and AuraInstance fills the graph store
role from the instance's own attributes.

What none of this can prove: that the provider accepts the block (no provider binary can be
installed here, so `terraform validate` cannot run); the schema was read from the provider's source
at tag v0.0.2-beta, not run.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infrakit.bindings import neo4j_aura as aura
from infrakit.cdk import TerraformOutput, TerraformStack, TerraformVariable
from infrakit.config.neo4j_aura import AuraNeo4j
from infrakit.constructs.neo4j_aura.instance import AuraInstance
from tests.binding_stacks import argument_names, new_stack, only_block, synth

INSTANCE = aura.Neo4jAuraInstance.TF_RESOURCE_TYPE
CONFIG = {"backend": "aura", "project_id": "7c1e9a52-3f4b-4d8e-9a61-2b5c8d0e4f17", "region": "eu-west-1"}


def variable(stack: TerraformStack, name: str) -> str:
    return TerraformVariable(stack, name, type="string", sensitive=True).string_value


def provider(stack: TerraformStack, **changes: Any) -> aura.Neo4jAuraProvider:
    arguments = {"client_id": variable(stack, "id"), "client_secret": variable(stack, "secret")}
    return aura.Neo4jAuraProvider(stack, "provider", **(arguments | changes))


def instance(stack: TerraformStack, **changes: Any) -> aura.Neo4jAuraInstance:
    arguments = {
        "name": "acme-dev",
        "project_id": "p",
        "region": "eu-west-1",
        "cloud_provider": "aws",
        "type": "professional-db",
        "memory": "1GB",
        "version": "5",
    }
    return aura.Neo4jAuraInstance(stack, "instance", **(arguments | changes))


# ----------------------------------------------------------------------------- bindings


@pytest.fixture(scope="module")
def every_argument() -> dict[str, Any]:
    """Each binding with every argument it accepts, to compare against the provider's schema."""
    stack = new_stack()
    provider(stack, instance_timeout=1800, snapshot_timeout=600)
    instance(stack, storage="4GB")
    return synth(stack)


def test_instance_emits_exactly_the_provider_arguments(every_argument):
    """internal/resource/instance.go at v0.0.2-beta declares each of these names."""
    block = only_block(every_argument, "resource", INSTANCE)
    assert argument_names(block) == {
        "name",
        "project_id",
        "region",
        "cloud_provider",
        "type",
        "memory",
        "version",
        "storage",
    }


def test_provider_emits_exactly_its_arguments_and_credentials_are_references(every_argument):
    (block,) = every_argument["provider"]["neo4jaura"]
    assert block == {
        "client_id": "${var.id}",
        "client_secret": "${var.secret}",
        "instance_timeout": 1800,
        "snapshot_timeout": 600,
    }


def test_provider_source_is_fully_qualified_and_pinned_exactly(every_argument):
    """A pre-release is selected only by an exact constraint; the host makes OpenTofu fetch the same
    build. What this cannot prove: that the registry still serves 0.0.2-beta."""
    assert every_argument["terraform"]["required_providers"]["neo4jaura"] == {
        "source": "registry.terraform.io/neo4j-labs/neo4jaura",
        "version": "0.0.2-beta",
    }


def test_type_and_cloud_provider_are_always_written():
    """The provider defaults them to free-db and gcp; leaving them to it would create a free
    instance on another cloud."""
    stack = new_stack()
    instance(stack)
    block = only_block(synth(stack), "resource", INSTANCE)
    assert (block["type"], block["cloud_provider"]) == ("professional-db", "aws")
    assert "storage" not in block  # unset: Aura sizes it from memory


@pytest.mark.parametrize(
    ("argument", "literal"),
    [("client_id", "0123-literal-id"), ("client_secret", "literal-secret")],  # checkov:skip=CKV_SECRET_6
)
def test_literal_credentials_are_refused(argument, literal):
    """A literal would land in cdk.tf.json; only a reference to a sensitive variable may."""
    with pytest.raises(ValueError, match=f"{argument} must be a Terraform reference"):
        provider(new_stack(), **{argument: literal})


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda s: instance(s, regoin="x"), "regoin"),
        (lambda s: instance(s, status="paused"), "status"),
        (lambda s: provider(s, api_key="x"), "api_key"),
    ],
)
def test_unknown_arguments_fail_at_construction(build, argument):
    with pytest.raises(TypeError, match=argument):
        build(new_stack())


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda s: aura.Neo4jAuraInstance(s, "i", name="n", region="r", cloud_provider="aws",
                                          type="free-db", memory="1GB", version="5"), "project_id"),
        (lambda s: aura.Neo4jAuraProvider(s, "p", client_id=variable(s, "id")), "client_secret"),
    ],
)  # fmt: skip
def test_missing_arguments_fail_at_construction(build, argument):
    with pytest.raises(TypeError, match=argument):
        build(new_stack())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"memory": "3GB"}, "memory '3GB' is not one of 1GB, 2GB"),
        ({"type": "pro"}, "type 'pro' is not one of free-db"),
        ({"cloud_provider": "aliyun"}, "cloud_provider 'aliyun' is not one of aws, gcp, azure"),
        ({"version": "4"}, "version '4' is not one of 5"),
        ({"storage": "3GB"}, "storage '3GB' is not one of 2GB"),
        ({"region": " "}, "region must not be empty"),
        ({"project_id": ""}, "project_id must not be empty"),
    ],
)
def test_bad_values_fail_at_construction_with_a_reason(changes, message):
    with pytest.raises(ValueError, match=message):
        instance(new_stack(), **changes)


def test_binding_lists_match_the_provider_s_validators():
    """Copied from internal/resource/instance.go at v0.0.2-beta (supportedMemory, supportedTypes,
    supportedCloudProviders, supportedVersions, supportedStorage)."""
    assert aura.MEMORY == (
        "1GB", "2GB", "4GB", "8GB", "16GB", "24GB", "32GB", "48GB", "64GB", "128GB", "192GB", "256GB",
        "384GB", "512GB",
    )  # fmt: skip
    assert set(aura.TYPES) == {
        "enterprise-db", "enterprise-ds", "professional-db", "professional-ds", "free-db",
        "business-critical",
    }  # fmt: skip
    assert set(aura.CLOUD_PROVIDERS) == {"gcp", "aws", "azure"}
    assert aura.VERSIONS == ("5",)
    assert aura.STORAGE == (
        "2GB", "4GB", "8GB", "16GB", "32GB", "48GB", "64GB", "96GB", "128GB", "192GB", "256GB", "384GB",
        "512GB", "768GB", "1024GB", "1536GB", "2048GB",
    )  # fmt: skip


# ----------------------------------------------------------------------------- AuraInstance


def instance_stack(protect: bool = True, **config: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Synthesize an AuraInstance; returns the document and the role's endpoints, resolved."""
    stack = new_stack()
    built = AuraInstance(
        stack,
        "graph-store",
        name="acme-prod",
        config=AuraNeo4j.model_validate(CONFIG | config),
        protect=protect,
    )
    for name, endpoint in {
        "uri": built.neo4j_uri,
        "username": built.username,
        "password": built.password,
    }.items():
        assert endpoint.in_network == endpoint.from_operator
        TerraformOutput(stack, name, value=endpoint.in_network)
    document = synth(stack)
    return document, {name: output["value"] for name, output in document["output"].items()}


@pytest.fixture(scope="module")
def graph_store() -> tuple[dict[str, Any], dict[str, str]]:
    return instance_stack(memory="8GB", type="business-critical", storage="16GB")


def test_the_role_s_endpoints_are_the_instance_s_own_attributes(graph_store):
    """What this cannot prove: that Aura answers on the URI it returns (the provider's own tests
    hand it to the Go driver unchanged)."""
    document, outputs = graph_store
    (name,) = document["resource"][INSTANCE]
    assert outputs == {
        "uri": f"${{{INSTANCE}.{name}.connection_url}}",
        "username": f"${{{INSTANCE}.{name}.username}}",
        "password": f"${{{INSTANCE}.{name}.password}}",
    }


def test_the_instance_follows_the_config(graph_store):
    document, _ = graph_store
    block = only_block(document, "resource", INSTANCE)
    assert {k: block[k] for k in argument_names(block) - {"lifecycle"}} == {
        "name": "acme-prod",
        "project_id": CONFIG["project_id"],
        "region": "eu-west-1",
        "cloud_provider": "aws",
        "type": "business-critical",
        "memory": "8GB",
        "storage": "16GB",
        "version": "5",
    }


def test_provider_credentials_are_sensitive_variables_read_from_tf_var(graph_store):
    """What this cannot prove: that Terraform reads TF_VAR_<name> (its documented behaviour)."""
    document, _ = graph_store
    assert document["provider"]["neo4jaura"] == [
        {"client_id": "${var.neo4j_aura_client_id}", "client_secret": "${var.neo4j_aura_client_secret}"}
    ]
    for name in ("neo4j_aura_client_id", "neo4j_aura_client_secret"):
        assert document["variable"][name]["sensitive"] is True
        assert document["variable"][name]["nullable"] is False


@pytest.mark.parametrize(("protect", "expected"), [(True, {"prevent_destroy": True}), (False, None)])
def test_prevent_destroy_follows_protection(protect, expected):
    """What this cannot prove: that Terraform refuses the plan (its documented behaviour)."""
    document, _ = instance_stack(protect=protect)
    assert only_block(document, "resource", INSTANCE).get("lifecycle") == expected


def test_terraform_reads_the_pin_as_one_exact_pre_release(tmp_path):
    """`terraform providers` parses the stack's required_providers offline, as `init` would. What it
    cannot prove: that the registry still serves 0.0.2-beta (no network here)."""
    import os
    import subprocess

    stack = new_stack()
    provider(stack)
    required = synth(stack)["terraform"]["required_providers"]
    (tmp_path / "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": required}}))
    result = subprocess.run(
        ["terraform", "providers"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "provider[registry.terraform.io/neo4j-labs/neo4jaura] 0.0.2-beta" in result.stdout
