"""Shared per-environment infrastructure, created only when a service needs it.

Creation is lazy for a reason beyond tidiness: the AWS bindings cost 11-15 s to import, and
an environment with no AWS service must never pay that.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from infrakit.cdk import TerraformStack
from infrakit.config import Environment

if TYPE_CHECKING:
    from infrakit.constructs.aws.ecs_cluster import ServiceCluster
    from infrakit.constructs.aws.foundation import AwsFoundation
    from infrakit.constructs.docker.network import LocalNetwork


class Platforms:
    def __init__(self, stack: TerraformStack, environment: Environment):
        self._stack = stack
        self._environment = environment
        self.prefix = f"{environment.config.project}-{environment.name}"
        self.labels = {
            "infrakit.project": environment.config.project,
            "infrakit.environment": environment.name,
        }

    def environment_backends(self) -> list[str]:
        """Every backend in use, in service order."""
        return [service.backend for service in self._environment.config.services.values()]

    @cached_property
    def docker(self) -> LocalNetwork:
        from infrakit.cdk import DockerProvider
        from infrakit.constructs.docker.network import LocalNetwork

        DockerProvider(self._stack, "docker")
        return LocalNetwork(self._stack, "network", name=self.prefix, labels=self.labels)

    @cached_property
    def aws(self) -> AwsFoundation:
        from infrakit.constructs.aws.foundation import AwsFoundation

        settings = self._environment.config.aws
        assert settings is not None, "validated: AWS services require [aws]"
        tags = {
            "Project": self._environment.config.project,
            "Environment": self._environment.name,
            "ManagedBy": "infrakit",
        }
        return AwsFoundation(self._stack, "aws", name=self.prefix, settings=settings, tags=tags)

    @cached_property
    def ecs_cluster(self) -> ServiceCluster:
        from infrakit.constructs.aws.ecs_cluster import ServiceCluster

        return ServiceCluster(
            self._stack, "cluster", name=self.prefix, key=self.aws.key, settings=self.aws.settings
        )
