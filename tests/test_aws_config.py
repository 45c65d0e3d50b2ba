"""Mistakes in the AWS parts of an environment file are caught before synthesis."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from pydantic import ValidationError

from infrakit.config import EnvironmentConfig
from tests.conftest import ENVIRONMENTS


def dev_with(**changes: dict[str, Any]) -> dict[str, Any]:
    data = tomllib.loads((ENVIRONMENTS / "dev.toml").read_text())
    for table, values in changes.items():
        data[table] = {**data.get(table, {}), **values}
    return data


def error_text(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        EnvironmentConfig.model_validate(data)
    return str(caught.value)


def test_the_shipped_cloud_environments_are_valid():
    for name in ("dev", "staging", "prod"):
        EnvironmentConfig.model_validate(tomllib.loads((ENVIRONMENTS / f"{name}.toml").read_text()))


def test_fargate_memory_must_fit_the_cpu():
    assert "memory_mb 4096 does not fit cpu 256: Fargate allows 512-2048 MiB" in error_text(
        dev_with(api={"cpu": 256, "memory_mb": 4096})
    )


def test_failover_needs_a_replica():
    text = error_text(dev_with(cache={"automatic_failover": True, "num_cache_clusters": 1}))
    assert "automatic_failover needs num_cache_clusters >= 2" in text


def test_aws_services_need_an_aws_table():
    data = dev_with()
    del data["aws"]
    assert "cache, api, worker run on AWS: add an [aws] table" in error_text(data)


def test_fargate_services_cannot_use_local_docker_datastores():
    local = tomllib.loads((ENVIRONMENTS / "local.toml").read_text())
    data = dev_with()
    data["cache"] = local["cache"]
    text = error_text(data)
    assert "api and worker on Fargate cannot reach cache running in local Docker" in text


def test_availability_zones_must_belong_to_the_region():
    text = error_text(dev_with(aws={"availability_zones": ["eu-west-1a", "us-east-1b"]}))
    assert "availability_zones us-east-1b are not in region eu-west-1" in text


def test_image_tags_are_pinned():
    assert "image_tag 'latest' moves" in error_text(dev_with(worker={"image_tag": "latest"}))


def test_containers_never_run_as_root():
    assert "containers run as a non-root user" in error_text(dev_with(api={"user": "0"}))


def test_scaling_bounds_are_ordered():
    assert "min_count must not exceed max_count" in error_text(dev_with(api={"min_count": 5, "max_count": 2}))
