"""The Supabase and Qdrant Cloud config models reject bad input with messages that say what to fix."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from infrakit.config.qdrant_cloud import QdrantCloud
from infrakit.config.supabase import SupabasePostgres

PACKAGE_ID = "7c939d96-d671-4051-aa16-3b8b7130fa42"


def supabase(**changes: Any) -> SupabasePostgres:
    return SupabasePostgres.model_validate(
        {"backend": "supabase", "organization_id": "acme", "region": "eu-west-1"} | changes
    )


def qdrant(**changes: Any) -> QdrantCloud:
    settings = {
        "backend": "qdrant_cloud",
        "cloud_region": "eu-west-1",
        "number_of_nodes": 3,
        "package_id": PACKAGE_ID,
        "replication_factor": 2,
        "collections": [{"name": "documents", "vector_size": 384}],
    }
    return QdrantCloud.model_validate(
        {key: value for key, value in (settings | changes).items() if value is not None}
    )


def errors(build: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        build()
    return caught.value.errors(include_url=False)


def messages(build: Any) -> str:
    return "\n".join(str(error["msg"]) for error in errors(build))


# ----------------------------------------------------------------------------- Supabase


def test_supabase_defaults_are_small_and_manage_no_settings():
    config = supabase()
    assert config.instance_size == "micro"
    assert (config.database_settings(), config.api_settings(), config.network_settings()) == ({}, {}, {})


def test_supabase_settings_carry_what_is_configured():
    config = supabase(statement_timeout="30s", max_rows=1000, network_restrictions=["203.0.113.7/32"])
    assert config.database_settings() == {"statement_timeout": "30s"}
    assert config.api_settings() == {"max_rows": 1000}
    assert config.network_settings() == {"restrictions": ["203.0.113.7/32"]}


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.20.0.0/16", "192.168.1.0/24", "fd00::/8"])
def test_supabase_rejects_private_network_restrictions(cidr):
    text = messages(lambda: supabase(network_restrictions=["203.0.113.0/24", cidr]))
    assert f"{cidr} is a private range" in text
    assert "public addresses only" in text


def test_supabase_accepts_public_ranges_of_both_families():
    config = supabase(network_restrictions=["198.51.100.0/24", "2001:db8::/32"])
    assert config.network_restrictions == ["198.51.100.0/24", "2001:db8::/32"]


def test_supabase_rejects_a_cidr_with_host_bits():
    assert "has host bits set" in messages(lambda: supabase(network_restrictions=["203.0.113.7/24"]))


@pytest.mark.parametrize(
    ("key", "value"),
    [("password", "hunter22"), ("database_password", "generate"), ("instance", "micro")],
)
def test_supabase_rejects_unknown_keys_including_any_password(key, value):
    (error,) = errors(lambda: supabase(**{key: value}))
    assert error["type"] == "extra_forbidden" and error["loc"] == (key,)


@pytest.mark.parametrize(
    ("key", "value", "loc"),
    [
        ("instance_size", "huge", "instance_size"),
        ("statement_timeout", "thirty seconds", "statement_timeout"),
        ("max_rows", 0, "max_rows"),
        ("region", "Europe", "region"),
    ],
)
def test_supabase_rejects_bad_values(key, value, loc):
    (error,) = errors(lambda: supabase(**{key: value}))
    assert error["loc"] == (loc,)


def test_supabase_config_is_frozen():
    with pytest.raises(ValidationError):
        supabase().instance_size = "large"  # type: ignore[misc]


# ----------------------------------------------------------------------------- Qdrant Cloud


def test_qdrant_defaults_keep_backups_and_use_aws():
    config = qdrant()
    assert config.cloud_provider == "aws"
    assert config.delete_backups_on_destroy is False
    assert config.write_consistency_factor == 1


def test_qdrant_accepts_a_package_name_instead_of_an_id():
    assert qdrant(package_id=None, package_name="free2").package_name == "free2"


@pytest.mark.parametrize(
    "package",
    [{"package_id": PACKAGE_ID, "package_name": "free2"}, {"package_id": None}],
    ids=["both", "neither"],
)
def test_qdrant_needs_exactly_one_package_choice(package):
    assert "set exactly one of package_id" in messages(lambda: qdrant(**package))


def test_qdrant_replication_factor_cannot_exceed_nodes():
    text = messages(lambda: qdrant(number_of_nodes=2, replication_factor=3))
    assert "replication_factor 3 exceeds number_of_nodes 2" in text


def test_qdrant_write_consistency_cannot_exceed_replication():
    text = messages(lambda: qdrant(replication_factor=2, write_consistency_factor=3))
    assert "write_consistency_factor 3 exceeds replication_factor 2" in text


@pytest.mark.parametrize("collections", [None, []], ids=["missing", "empty"])
def test_qdrant_needs_the_collections_service_keys_are_scoped_to(collections):
    text = messages(lambda: qdrant(collections=collections))
    assert "collections is required" in text


def test_qdrant_rejects_a_collection_listed_twice():
    twice = [{"name": "documents", "vector_size": 384}] * 2
    assert "collections declares documents more than once" in messages(lambda: qdrant(collections=twice))


def test_qdrant_source_ranges_are_ipv4_only():
    assert "IPv4 source ranges only" in messages(lambda: qdrant(allowed_ip_source_ranges=["2001:db8::/32"]))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("package_id", "free2"),
        ("number_of_nodes", 0),
        ("cloud_provider", "digitalocean"),
        ("version", "1.13.4"),
    ],
)
def test_qdrant_rejects_bad_values(key, value):
    (error,) = errors(lambda: qdrant(**{key: value}))
    assert error["loc"] == (key,)


@pytest.mark.parametrize("key", ["api_key", "replicas", "delete_backups"])
def test_qdrant_rejects_unknown_keys(key):
    (error,) = errors(lambda: qdrant(**{key: "x"}))
    assert error["type"] == "extra_forbidden" and error["loc"] == (key,)
