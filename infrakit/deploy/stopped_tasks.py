"""Why ECS stopped a service's tasks, and what to do about each reason.

ECS keeps stopped tasks for about an hour: ListTasks(desiredStatus=STOPPED) finds them and
DescribeTasks gives `stoppedReason` and each container's `reason` and exit code. A rollout that
failed is explained by its newest stopped task of the revision being rolled out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_DESCRIBED = 100  # DescribeTasks takes at most 100 tasks


@dataclass(frozen=True)
class ServiceFacts:
    """What the fixes name for one service, from the environment's config and the stacks' names."""

    file: str  # the environment file
    image_key: str  # e.g. api.image_tag
    image: str  # its value
    repository: str  # the ECR repository
    execution_role: str  # the IAM role that pulls the image and reads the secrets
    health_path: str | None = None  # the load balancer's health check path (api)
    port: int | None = None


@dataclass(frozen=True)
class StoppedTask:
    reason: str  # stoppedReason, with the first container's reason and exit code
    stopped_at: str


def read_stopped_tasks(
    ecs: Any, cluster: str, service: str, task_definition: str | None
) -> list[StoppedTask]:
    """The service's stopped tasks, newest first; those of `task_definition` only, when it has any."""
    arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED").get("taskArns") or []
    if not arns:
        return []
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[:MAX_DESCRIBED]).get("tasks") or []
    own = [t for t in tasks if task_definition and t.get("taskDefinitionArn") == task_definition]
    chosen = own or tasks
    chosen.sort(key=lambda t: str(t.get("stoppedAt") or ""), reverse=True)
    return [StoppedTask(_reason(t), str(t.get("stoppedAt") or "")) for t in chosen]


def _reason(task: dict[str, Any]) -> str:
    reason = str(task.get("stoppedReason") or task.get("stopCode") or "no reason given")
    for container in task.get("containers") or ():
        detail = container.get("reason")
        code = container.get("exitCode")
        if detail and detail not in reason:
            reason += f"; container {container.get('name', '?')}: {detail}"
        if code is not None:
            reason += f"; container {container.get('name', '?')} exited with code {code}"
    return reason


def fix_for(reason: str, facts: ServiceFacts | None) -> str:
    """What to do, for ECS's reason a task stopped (the documented stopped-task errors)."""
    file = facts.file if facts else "the environment file"
    if "ResourceInitializationError" in reason:
        role = f"the execution role {facts.execution_role}" if facts else "the task's execution role"
        return (
            "the task could not get its secrets (or its registry auth) before starting. Check that "
            f"{role} may read the service's secrets (secretsmanager:GetSecretValue) and decrypt them "
            "with the environment's KMS key (kms:Decrypt); that each secret has a value (a value "
            "written in the same apply can come after the first tasks: deploy again); and that the "
            "private subnets reach Secrets Manager and ECR (NAT gateway or VPC endpoints)"
        )
    if "CannotPullContainerError" in reason:
        where = (
            f"{facts.image_key} = {facts.image!r} in {file} is in the ECR repository {facts.repository}"
            if facts
            else "the image tag in the environment file is in its ECR repository"
        )
        return (
            f"the image could not be pulled. Check that {where} (`aws ecr describe-images "
            f"--repository-name {facts.repository if facts else 'REPOSITORY'}`), that the execution role "
            "may pull from it, and that the private subnets reach ECR (NAT gateway or VPC endpoints)"
        )
    if "ELB health checks" in reason or "Target." in reason:
        path = facts.health_path if facts and facts.health_path else "the health check path"
        port = f" on port {facts.port}" if facts and facts.port else ""
        return (
            f"the load balancer's health check of {path}{port} did not get 200-399 from the app. Make the "
            f"app answer {path}{port} (api.load_balancer.health_check_path in {file}) without needing "
            "anything slow at start, then read in its logs why it did not"
        )
    if "container health checks" in reason:
        return (
            f"the container's own healthcheck ({file}) kept failing: run it by hand against the image, "
            "and read in the logs why the app was not ready"
        )
    if "OutOfMemory" in reason:
        return f"the container ran out of memory: raise memory_mb for the service in {file}"
    if "Essential container in task exited" in reason:
        return (
            "the app exited: its exit code is above, and the logs say why (a missing variable or "
            "secret, a backend it cannot reach, a crash at start)"
        )
    if "alarm" in reason.lower():
        return (
            "a deployment alarm fired during the rollout and ECS rolled it back: see which one in "
            "CloudWatch (docs/operations.md, Alarms), then the logs of the new revision"
        )
    return "read the service's events and the logs below for why ECS stopped it"
