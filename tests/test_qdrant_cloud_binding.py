"""The hand-written Qdrant Cloud bindings emit exactly the provider's arguments, and
QdrantCloudCluster issues one narrowly scoped API key per service plus one for the operator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infrakit.bindings import qdrant_cloud as qc
from infrakit.cdk import TerraformOutput, TerraformStack, Testing
from infrakit.config.qdrant_cloud import QdrantCloud
from infrakit.constructs.key_rotation import KeyRotation
from infrakit.constructs.qdrant_cloud.cluster import QdrantCloudCluster
from tests.binding_stacks import argument_names, new_stack, only_block, synth

PACKAGE_ID = "7c939d96-d671-4051-aa16-3b8b7130fa42"
KEY = qc.QdrantCloudDatabaseApiKey.TF_RESOURCE_TYPE


def configuration(**changes: Any) -> qc.ClusterConfiguration:
    return qc.ClusterConfiguration(**({"number_of_nodes": 3, "package_id": PACKAGE_ID} | changes))


def cluster(stack: TerraformStack, **changes: Any) -> qc.QdrantCloudCluster:
    arguments = {
        "name": "acme-dev",
        "cloud_provider": "aws",
        "cloud_region": "eu-west-1",
        "configuration": configuration(),
    }
    return qc.QdrantCloudCluster(stack, "cluster", **(arguments | changes))


# ----------------------------------------------------------------------------- bindings


@pytest.fixture(scope="module")
def every_argument() -> dict[str, Any]:
    """Each binding with every argument it accepts, to compare against the provider's schema."""
    stack = new_stack()
    qc.QdrantCloudProvider(stack, "provider", api_url="grpc.cloud.qdrant.io")
    built = cluster(
        stack,
        configuration=configuration(
            collection=qc.CollectionDefaults(replication_factor=2, write_consistency_factor=1),
            allowed_ip_source_ranges=["203.0.113.0/24"],
            version="v1.13.0",
        ),
        delete_backups_on_destroy=True,
        account_id="00000000-0000-0000-0000-000000000001",
        labels={"env": "dev"},
    )
    qc.QdrantCloudDatabaseApiKey(
        stack,
        "global-key",
        cluster_id=built.cluster_id,
        name="global",
        expires_at="2030-01-01T00:00:00Z",
        global_access_rule=qc.GlobalAccessRule(qc.GLOBAL_READ_ONLY),
    )
    qc.QdrantCloudDatabaseApiKey(
        stack,
        "collection-key",
        cluster_id=built.cluster_id,
        name="collection",
        collection_access_rules=[qc.CollectionAccessRule("documents", qc.COLLECTION_READ_ONLY)],
    )
    qc.DataQdrantCloudBookingPackages(stack, "packages", cloud_provider="aws", cloud_region="eu-west-1")
    return synth(stack)


def test_cluster_emits_exactly_the_provider_arguments(every_argument):
    block = only_block(every_argument, "resource", qc.QdrantCloudCluster.TF_RESOURCE_TYPE)
    assert argument_names(block) == {
        "name",
        "cloud_provider",
        "cloud_region",
        "configuration",
        "account_id",
        "delete_backups_on_destroy",
        "labels",
    }
    assert block["labels"] == [{"key": "env", "value": "dev"}]


def test_cluster_configuration_synthesizes_as_nested_blocks(every_argument):
    block = only_block(every_argument, "resource", qc.QdrantCloudCluster.TF_RESOURCE_TYPE)
    assert block["configuration"] == {
        "number_of_nodes": 3,
        "node_configuration": {"package_id": PACKAGE_ID},
        "database_configuration": {"collection": {"replication_factor": 2, "write_consistency_factor": 1}},
        "allowed_ip_source_ranges": ["203.0.113.0/24"],
        "version": "v1.13.0",
    }


def test_api_keys_emit_exactly_the_provider_arguments(every_argument):
    keys = every_argument["resource"][KEY]
    assert {name: argument_names(block) for name, block in keys.items()} == {
        "global-key": {"cluster_id", "name", "expires_at", "global_access_rule"},
        "collection-key": {"cluster_id", "name", "collection_access_rules"},
    }
    assert keys["collection-key"]["collection_access_rules"] == [
        {"collection_name": "documents", "access_type": "COLLECTION_ACCESS_RULE_ACCESS_TYPE_READ_ONLY"}
    ]


def test_booking_packages_take_provider_and_region(every_argument):
    block = only_block(every_argument, "data", qc.DataQdrantCloudBookingPackages.TF_RESOURCE_TYPE)
    assert argument_names(block) == {"cloud_provider", "cloud_region"}


def test_provider_takes_no_credential_and_is_pinned(every_argument):
    (provider,) = every_argument["provider"]["qdrant-cloud"]
    assert set(provider) == {"api_url"}
    assert every_argument["terraform"]["required_providers"]["qdrant-cloud"] == {
        "source": "qdrant/qdrant-cloud",
        "version": "1.28.0",
    }


def test_backups_survive_destroy_unless_asked():
    # The provider's own default is true, so the binding must always write the value.
    stack = new_stack()
    cluster(stack)
    assert Testing.to_have_resource_with_properties(
        Testing.synth(stack), qc.QdrantCloudCluster.TF_RESOURCE_TYPE, {"delete_backups_on_destroy": False}
    )


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda s: cluster(s, cloud_regoin="eu-west-1"), "cloud_regoin"),
        (lambda s: qc.QdrantCloudDatabaseApiKey(s, "k", cluster_id="c", name="n", token="x"), "token"),
        (lambda s: qc.DataQdrantCloudBookingPackages(s, "p", cloud_provider="aws", region="x"), "region"),
        (lambda s: qc.QdrantCloudProvider(s, "p", api_key="secret"), "api_key"),
        (lambda s: qc.ClusterConfiguration(number_of_nodes=1, package_id="p", nodes=1), "nodes"),
    ],
)
def test_unknown_arguments_fail_at_construction(build, argument):
    with pytest.raises(TypeError, match=argument):
        build(new_stack())


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (
            lambda s: qc.QdrantCloudCluster(s, "c", name="n", cloud_provider="aws", cloud_region="eu-west-1"),
            "configuration",
        ),
        (lambda s: qc.QdrantCloudDatabaseApiKey(s, "k", name="n"), "cluster_id"),
        (lambda s: qc.DataQdrantCloudBookingPackages(s, "p", cloud_provider="aws"), "cloud_region"),
        (lambda s: qc.ClusterConfiguration(number_of_nodes=1), "package_id"),
    ],
)
def test_missing_arguments_fail_at_construction(build, argument):
    with pytest.raises(TypeError, match=argument):
        build(new_stack())


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda s: cluster(s, configuration=configuration(collection=qc.CollectionDefaults(4, 1))),
            r"replication_factor 4 must be between 1 and number_of_nodes \(3\)",
        ),
        (
            lambda s: cluster(s, configuration=configuration(collection=qc.CollectionDefaults(2, 3))),
            r"write_consistency_factor 3 must be between 1 and replication_factor \(2\)",
        ),
        (lambda s: cluster(s, configuration=configuration(number_of_nodes=0)), "at least 1"),
        (
            lambda s: qc.QdrantCloudDatabaseApiKey(
                s,
                "k",
                cluster_id="c",
                name="n",
                global_access_rule=qc.GlobalAccessRule(qc.GLOBAL_MANAGE),
                collection_access_rules=[qc.CollectionAccessRule("docs", qc.COLLECTION_READ_WRITE)],
            ),
            "not both",
        ),
        (
            lambda s: qc.QdrantCloudDatabaseApiKey(
                s, "k", cluster_id="c", name="n", global_access_rule=qc.GlobalAccessRule("READ_WRITE")
            ),
            "access_type 'READ_WRITE' is not one of",
        ),
        (
            lambda s: qc.QdrantCloudDatabaseApiKey(
                s,
                "k",
                cluster_id="c",
                name="n",
                collection_access_rules=[
                    qc.CollectionAccessRule(f"c{i}", qc.COLLECTION_READ_ONLY) for i in range(21)
                ],
            ),
            "1 to 20 rules",
        ),
        (
            lambda s: qc.DataQdrantCloudBookingPackages(
                s, "p", cloud_provider="aws", cloud_region="eu-west-1"
            ).package_id_named('x"]}'),
            "package name",
        ),
    ],
)
def test_bad_values_fail_at_construction_with_a_reason(build, message):
    with pytest.raises(ValueError, match=message):
        build(new_stack())


# ----------------------------------------------------------------------------- QdrantCloudCluster


def cluster_stack(services: tuple[str, ...] = ("api", "worker"), **config: Any) -> tuple[dict[str, Any], Any]:
    """Synthesize a QdrantCloudCluster; returns the document and the construct's endpoints, resolved."""
    stack = new_stack()
    settings = {
        "backend": "qdrant_cloud",
        "cloud_region": "eu-west-1",
        "number_of_nodes": 3,
        "package_id": PACKAGE_ID,
        "replication_factor": 2,
        "collections": [{"name": "documents", "vector_size": 384}, {"name": "chunks", "vector_size": 384}],
    } | config
    generations = {holder: 1 for holder in [*services, "operator"]} if not isinstance(services, str) else {}
    built = QdrantCloudCluster(
        stack,
        "vector-store",
        name="acme-dev",
        config=QdrantCloud(**settings),
        services=services,
        rotation=KeyRotation(stack, "key-rotation", generations=generations),
    )
    TerraformOutput(stack, "qdrant_url", value=built.qdrant_url.in_network)
    TerraformOutput(stack, "api_key", value=built.api_key.in_network)
    for service, endpoint in built.service_keys.items():
        TerraformOutput(stack, f"key_{service}", value=endpoint.in_network)
    document = synth(stack)
    return document, {name: output["value"] for name, output in document["output"].items()}


@pytest.fixture(scope="module")
def vector_store() -> tuple[dict[str, Any], dict[str, str]]:
    return cluster_stack()


def keys_by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["name"]: block for block in document["resource"][KEY].values()}


def test_one_key_per_service_plus_the_operator(vector_store):
    document, _ = vector_store
    assert sorted(keys_by_name(document)) == ["acme-dev-api", "acme-dev-operator", "acme-dev-worker"]


def test_operator_key_may_manage_collections(vector_store):
    document, _ = vector_store
    operator = keys_by_name(document)["acme-dev-operator"]
    assert operator["global_access_rule"] == {"access_type": "GLOBAL_ACCESS_RULE_ACCESS_TYPE_MANAGE"}
    assert "collection_access_rules" not in operator


@pytest.mark.parametrize("service", ["api", "worker"])
def test_service_keys_read_and_write_only_the_configured_collections(vector_store, service):
    document, _ = vector_store
    key = keys_by_name(document)[f"acme-dev-{service}"]
    assert "global_access_rule" not in key
    assert key["collection_access_rules"] == [
        {"collection_name": "documents", "access_type": "COLLECTION_ACCESS_RULE_ACCESS_TYPE_READ_WRITE"},
        {"collection_name": "chunks", "access_type": "COLLECTION_ACCESS_RULE_ACCESS_TYPE_READ_WRITE"},
    ]


def test_every_key_belongs_to_the_cluster(vector_store):
    document, _ = vector_store
    (cluster_id,) = document["resource"][qc.QdrantCloudCluster.TF_RESOURCE_TYPE]
    for key in document["resource"][KEY].values():
        assert key["cluster_id"] == f"${{qdrant-cloud_accounts_cluster.{cluster_id}.id}}"


def test_endpoints_are_terraform_references(vector_store):
    document, outputs = vector_store
    for name, value in outputs.items():
        assert "${" in value, name
    key_ids = {block["name"]: block_id for block_id, block in document["resource"][KEY].items()}
    reference = {name: f"${{{KEY}.{block_id}.key}}" for name, block_id in key_ids.items()}
    assert outputs["api_key"] == reference["acme-dev-operator"]
    assert outputs["key_api"] == reference["acme-dev-api"]
    assert outputs["key_worker"] == reference["acme-dev-worker"]


def test_qdrant_url_is_https_on_the_rest_port_without_a_doubled_scheme(vector_store):
    _, outputs = vector_store
    url = outputs["qdrant_url"]
    assert url.startswith("https://${") and url.endswith("}:6333")
    assert "trimprefix(" in url and '"https://"' in url and '"http://"' in url


def test_cluster_follows_the_config(vector_store):
    document, _ = vector_store
    assert Testing.to_have_resource_with_properties(
        json.dumps(document),
        qc.QdrantCloudCluster.TF_RESOURCE_TYPE,
        {
            "name": "acme-dev",
            "cloud_provider": "aws",
            "cloud_region": "eu-west-1",
            "delete_backups_on_destroy": False,
            "configuration": {
                "number_of_nodes": 3,
                "node_configuration": {"package_id": PACKAGE_ID},
                "database_configuration": {
                    "collection": {"replication_factor": 2, "write_consistency_factor": 1}
                },
            },
        },
    )
    assert qc.DataQdrantCloudBookingPackages.TF_RESOURCE_TYPE not in document.get("data", {})


def test_package_name_is_resolved_by_terraform_not_at_synth():
    document, _ = cluster_stack(
        package_id=None, package_name="free2", number_of_nodes=1, replication_factor=1
    )
    (packages_id,) = document["data"][qc.DataQdrantCloudBookingPackages.TF_RESOURCE_TYPE]
    block = only_block(document, "resource", qc.QdrantCloudCluster.TF_RESOURCE_TYPE)
    package_id = block["configuration"]["node_configuration"]["package_id"]
    packages = f"data.qdrant-cloud_booking_packages.{packages_id}.packages"
    assert package_id == f"${{zipmap({packages}[*].name, {packages}[*].id).free2}}"
    (check,) = block["lifecycle"]["precondition"]
    assert check["condition"] == f'${{contains({packages}[*].name, "free2")}}'
    assert "free2" in check["error_message"] and "package_id" in check["error_message"]


def test_provider_block_holds_no_credentials(vector_store):
    document, _ = vector_store
    assert document["provider"]["qdrant-cloud"] == [{}]


@pytest.mark.parametrize(
    ("services", "message"),
    [
        (("api", "api"), "twice"),
        (("api", "operator"), "bootstrap's own key"),
        (("API",), "lowercase"),
    ],
)
def test_service_names_are_checked(services, message):
    with pytest.raises(ValueError, match=message):
        cluster_stack(services=services)


def test_backup_schedule_emits_exactly_the_provider_arguments():
    """qdrant/qdrant-cloud docs/resources/accounts_backup_schedule.md: cluster_id and cron_expression
    are required, retention_period is a Go duration; account_id is left to the provider."""
    stack = new_stack()
    qc.QdrantCloudBackupSchedule(
        stack, "backups", cluster_id="c-1", cron_expression="0 3 * * *", retention_period="168h"
    )
    block = only_block(synth(stack), "resource", qc.QdrantCloudBackupSchedule.TF_RESOURCE_TYPE)
    assert block == {
        "cluster_id": "c-1",
        "cron_expression": "0 3 * * *",
        "retention_period": "168h",
        # Always written: the provider's default (true) deletes the backups with the schedule.
        "delete_backups_on_destroy": False,
    }
    with pytest.raises(ValueError, match="Go duration in hours"):
        qc.QdrantCloudBackupSchedule(
            new_stack(), "b", cluster_id="c", cron_expression="0 3 * * *", retention_period="7d"
        )
