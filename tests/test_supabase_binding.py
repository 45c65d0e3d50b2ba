"""The hand-written Supabase bindings emit exactly the provider's arguments, and SupabaseDatabase
wires a project whose connection contract holds only Terraform references."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from infrakit.bindings.supabase import (
    DataSupabaseApikeys,
    DataSupabasePooler,
    ProjectTimeouts,
    SupabaseApikey,
    SupabaseProject,
    SupabaseProvider,
    SupabaseSettings,
)
from infrakit.cdk import Password, RandomProvider, TerraformOutput, TerraformStack, Testing
from infrakit.config.supabase import SupabasePostgres
from infrakit.constructs.key_rotation import KeyRotation
from infrakit.constructs.supabase.database import SupabaseDatabase
from tests.binding_stacks import argument_names, new_stack, only_block, synth

CONTRACT = ("database_url", "supabase_url", "supabase_publishable_key", "supabase_secret_key")


def project(stack: TerraformStack, **changes: Any) -> SupabaseProject:
    arguments = {
        "organization_id": "acme",
        "name": "acme-dev",
        "database_password": "a-long-password",  # checkov:skip=CKV_SECRET_6: test value
        "region": "eu-west-1",
    }
    return SupabaseProject(stack, "project", **(arguments | changes))


# ----------------------------------------------------------------------------- bindings


@pytest.fixture(scope="module")
def every_argument() -> dict[str, Any]:
    """Each binding with every argument it accepts, to compare against the provider's schema."""
    stack = new_stack()
    SupabaseProvider(stack, "provider", endpoint="https://api.supabase.com")
    ref = project(
        stack,
        instance_size="small",
        timeouts=ProjectTimeouts(create="20m", update="20m"),
    ).project_ref
    groups = ("api", "auth", "database", "network", "pooler", "storage")
    SupabaseSettings(stack, "settings", project_ref=ref, **{group: {"x": 1} for group in groups})
    DataSupabaseApikeys(stack, "keys", project_ref=ref)
    DataSupabasePooler(stack, "pooler", project_ref=ref)
    SupabaseApikey(stack, "key", project_ref=ref, name="api")
    return synth(stack)


@pytest.mark.parametrize(
    ("section", "block_type", "expected"),
    [
        (
            "resource",
            SupabaseProject.TF_RESOURCE_TYPE,
            {
                "organization_id",
                "name",
                "database_password",
                "region",
                "instance_size",
                "timeouts",
            },
        ),
        (
            "resource",
            SupabaseSettings.TF_RESOURCE_TYPE,
            {"project_ref", "api", "auth", "database", "network", "pooler", "storage"},
        ),
        ("data", DataSupabaseApikeys.TF_RESOURCE_TYPE, {"project_ref"}),
        # No `description`: create never sends it, so it would read back null (reference.md).
        ("resource", SupabaseApikey.TF_RESOURCE_TYPE, {"project_ref", "name"}),
        ("data", DataSupabasePooler.TF_RESOURCE_TYPE, {"project_ref"}),
    ],
)
def test_bindings_emit_exactly_the_provider_arguments(every_argument, section, block_type, expected):
    assert argument_names(only_block(every_argument, section, block_type)) == expected


def test_project_timeouts_is_a_nested_block_of_create_and_update(every_argument):
    timeouts = only_block(every_argument, "resource", SupabaseProject.TF_RESOURCE_TYPE)["timeouts"]
    assert timeouts == {"create": "20m", "update": "20m"}


def test_provider_takes_no_credential_and_is_pinned(every_argument):
    (provider,) = every_argument["provider"]["supabase"]
    assert set(provider) == {"endpoint"}
    assert every_argument["terraform"]["required_providers"]["supabase"] == {
        "source": "supabase/supabase",
        "version": "1.10.1",
    }


def test_unset_optional_arguments_are_left_to_the_provider():
    stack = new_stack()
    SupabaseProvider(stack, "provider")
    project(stack)
    document = synth(stack)
    assert document["provider"]["supabase"] == [{}]
    assert "instance_size" not in only_block(document, "resource", SupabaseProject.TF_RESOURCE_TYPE)


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda s: project(s, instance_sise="small"), "instance_sise"),
        (lambda s: SupabaseSettings(s, "x", project_ref="ref", databse={}), "databse"),
        (lambda s: DataSupabaseApikeys(s, "x", project_ref="ref", anon_key="k"), "anon_key"),
        (lambda s: DataSupabasePooler(s, "x", project_ref="ref", mode="session"), "mode"),
        (lambda s: SupabaseProvider(s, "x", access_token="sbp_secret"), "access_token"),
    ],
)
def test_unknown_arguments_fail_at_construction(build, argument):
    with pytest.raises(TypeError, match=argument):
        build(new_stack())


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (
            lambda s: SupabaseProject(s, "x", organization_id="acme", name="n", region="eu-west-1"),
            "database_password",
        ),
        (lambda s: SupabaseSettings(s, "x"), "project_ref"),
        (lambda s: DataSupabaseApikeys(s, "x"), "project_ref"),
        (lambda s: DataSupabasePooler(s, "x"), "project_ref"),
    ],
)
def test_missing_arguments_fail_at_construction(build, argument):
    with pytest.raises(TypeError, match=argument):
        build(new_stack())


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda s: project(s, instance_size="huge"), "instance_size 'huge' is not one of"),
        (lambda s: project(s, database_password="abc"), "database_password must be at least 4"),
        (lambda s: project(s, name=" "), "name must not be empty"),
        (lambda s: SupabaseSettings(s, "x", project_ref="ref", api="{not json"), "api is not valid JSON"),
        (lambda s: SupabaseSettings(s, "x", project_ref="ref", network="[1, 2]"), "must be a JSON object"),
        (lambda s: DataSupabasePooler(s, "x", project_ref="ref").connection_string("direct"), "pool mode"),
    ],
)
def test_bad_values_fail_at_construction_with_a_reason(build, message):
    with pytest.raises(ValueError, match=message):
        build(new_stack())


def test_settings_json_is_stable_whatever_the_key_order():
    stack = new_stack()
    SupabaseSettings(stack, "settings", project_ref="ref", database={"b": 1, "a": "x"})
    assert Testing.to_have_resource_with_properties(
        Testing.synth(stack), SupabaseSettings.TF_RESOURCE_TYPE, {"database": '{"a":"x","b":1}'}
    )


# ----------------------------------------------------------------------------- SupabaseDatabase


def _rotation(stack: TerraformStack) -> KeyRotation:
    return KeyRotation(stack, "key-rotation", generations={"api": 1, "worker": 1, "operator": 1})


def database_stack(**config: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Synthesize a SupabaseDatabase; returns the document and its contract, resolved."""
    stack = new_stack()
    RandomProvider(stack, "random")
    settings = {"backend": "supabase", "organization_id": "acme", "region": "eu-west-1"} | config
    database = SupabaseDatabase(
        stack,
        "database",
        name="acme-dev",
        config=SupabasePostgres(**settings),
        services=["api", "worker"],
        rotation=_rotation(stack),
    )
    supabase = database.supabase
    assert supabase is not None
    endpoints = {
        "database_url": database.database_url,
        "supabase_url": supabase.url,
        "supabase_publishable_key": supabase.publishable_key,
        "supabase_secret_key": supabase.secret_key,
    }
    for name in CONTRACT:
        TerraformOutput(stack, name, value=endpoints[name].in_network)
    document = synth(stack)
    return document, {name: document["output"][name]["value"] for name in CONTRACT}


@pytest.fixture(scope="module")
def database() -> tuple[dict[str, Any], dict[str, str]]:
    return database_stack(network_restrictions=["203.0.113.0/24"], statement_timeout="30s", max_rows=500)


def test_every_endpoint_is_a_terraform_reference(database):
    _, contract = database
    for name, value in contract.items():
        assert "${" in value, name


def test_database_url_is_the_transaction_pooler_with_the_generated_password(database):
    document, contract = database
    password = only_block(document, "resource", Password.TF_RESOURCE_TYPE)
    assert password["length"] == 40 and password["special"] is False
    (password_id,) = document["resource"][Password.TF_RESOURCE_TYPE]
    url = contract["database_url"]
    assert "url.transaction" in url
    assert f'"[YOUR-PASSWORD]", random_password.{password_id}.result)' in url


def test_database_url_requires_tls(database):
    """Both sides; tests/test_supabase_database_url.py runs them with node-postgres and psycopg."""
    _, contract = database
    assert contract["database_url"].endswith("sslmode=require&uselibpqcompat=true")
    assert "sslmode=disable" not in contract["database_url"]


def test_the_operator_url_is_libpq_s_dialect():
    stack = new_stack()
    RandomProvider(stack, "random")
    config = SupabasePostgres(backend="supabase", organization_id="acme", region="eu-west-1")
    database = SupabaseDatabase(
        stack, "database", name="acme-dev", config=config, services=[], rotation=_rotation(stack)
    )
    TerraformOutput(stack, "operator", value=database.database_url.from_operator)
    assert synth(stack)["output"]["operator"]["value"].endswith("}sslmode=require")


def test_project_creation_waits_twenty_minutes_by_default(database):
    """Provider 1.10.1 waits 5 minutes (utils.go, defaultWaitTimeout), and a create that times out
    returns before state is saved, leaving a billed project Terraform does not track.

    What this cannot prove: how long a real project takes to become ACTIVE_HEALTHY."""
    document, _ = database
    project_block = only_block(document, "resource", SupabaseProject.TF_RESOURCE_TYPE)
    assert project_block["timeouts"] == {"create": "20m", "update": "20m"}


def test_configured_timeouts_reach_the_project():
    document, _ = database_stack(create_timeout="45m", update_timeout="1h30m")
    project_block = only_block(document, "resource", SupabaseProject.TF_RESOURCE_TYPE)
    assert project_block["timeouts"] == {"create": "45m", "update": "1h30m"}


@pytest.mark.parametrize("value", ["20", "20 minutes", "1d", ""])
def test_a_timeout_that_is_no_go_duration_is_refused(value):
    with pytest.raises(ValidationError, match="create_timeout"):
        SupabasePostgres(backend="supabase", organization_id="acme", region="eu-west-1", create_timeout=value)


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_every_cloud_project_sets_its_timeouts(synthesized, environment):
    document = json.loads((synthesized / "stacks" / environment / "cdk.tf.json").read_text())
    project_block = only_block(document, "resource", SupabaseProject.TF_RESOURCE_TYPE)
    assert set(project_block["timeouts"]) == {"create", "update"}


def test_project_password_is_the_generated_one_never_a_literal(database):
    document, _ = database
    (password_id,) = document["resource"][Password.TF_RESOURCE_TYPE]
    project_block = only_block(document, "resource", SupabaseProject.TF_RESOURCE_TYPE)
    assert project_block["database_password"] == f"${{random_password.{password_id}.result}}"
    assert project_block["instance_size"] == "micro"


def test_supabase_url_is_the_project_api_address(database):
    document, contract = database
    (project_id,) = document["resource"][SupabaseProject.TF_RESOURCE_TYPE]
    assert contract["supabase_url"] == f"https://${{supabase_project.{project_id}.id}}.supabase.co"


def test_api_keys_are_the_new_kind_one_secret_key_per_holder(database):
    """The operator's secret key is the contract's; the publishable key comes from the data source,
    read after the secret keys exist (creating the first makes the `default` publishable key), and
    marked non-sensitive on purpose. Nothing enables or reads the legacy keys.
    Cannot prove: what Supabase returns; that is the provider's (reference.md)."""
    document, contract = database
    (keys_id,) = document["data"][DataSupabaseApikeys.TF_RESOURCE_TYPE]
    secret_keys = document["resource"][SupabaseApikey.TF_RESOURCE_TYPE]
    by_name = {body["name"]: key_id for key_id, body in secret_keys.items()}
    assert set(by_name) == {"operator", "api", "worker"}
    assert contract["supabase_secret_key"] == f"${{supabase_apikey.{by_name['operator']}.api_key}}"
    assert contract["supabase_publishable_key"] == (
        f"${{nonsensitive(data.supabase_apikeys.{keys_id}.publishable_key)}}"
    )
    data = document["data"][DataSupabaseApikeys.TF_RESOURCE_TYPE][keys_id]
    assert sorted(data["depends_on"]) == sorted(f"supabase_apikey.{key_id}" for key_id in secret_keys)
    text = json.dumps(document)
    for legacy in ("legacy_api_keys_enabled", ".anon_key", ".service_role_key"):
        assert legacy not in text


def test_secret_key_names_follow_the_provider_s_pattern():
    """Cannot prove: the provider's own validation; it mirrors apikey_resource.go's regex."""
    stack = new_stack()
    with pytest.raises(ValueError, match="lower-case letters"):
        SupabaseApikey(stack, "bad", project_ref="ref", name="api-key")
    SupabaseApikey(stack, "good", project_ref="ref", name="_api_2")


def test_configured_settings_reach_supabase(database):
    document, _ = database
    assert Testing.to_have_resource_with_properties(
        json.dumps(document),
        SupabaseSettings.TF_RESOURCE_TYPE,
        {
            "network": '{"restrictions":["203.0.113.0/24"]}',
            "database": '{"statement_timeout":"30s"}',
            "api": '{"max_rows":500}',
        },
    )


def test_only_configured_settings_groups_are_managed():
    document, _ = database_stack(max_rows=100)
    assert argument_names(only_block(document, "resource", SupabaseSettings.TF_RESOURCE_TYPE)) == {
        "project_ref",
        "api",
    }
    bare, _ = database_stack()
    assert SupabaseSettings.TF_RESOURCE_TYPE not in bare.get("resource", {})


def test_database_provider_block_holds_no_credentials(database):
    document, _ = database
    assert document["provider"]["supabase"] == [{}]
