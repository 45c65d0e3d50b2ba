"""[graph] with backend = "aura": Neo4j AuraDB through the Neo4j Labs provider neo4j-labs/neo4jaura.

The enumerations below are the ones the provider validates (0.0.2-beta,
internal/resource/instance.go: supportedMemory, supportedTypes, supportedCloudProviders,
supportedVersions, supportedStorage). They are checked here so that a typo fails at synth, naming
the key, not at plan time deep inside Terraform.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infrakit.config.graph import GraphSchema

# The Aura API credentials: the provider takes them only as arguments (no environment variable of
# its own), so the stack declares them as sensitive Terraform variables and Terraform reads them from
# these at apply time. infrakit never reads their values; preflight checks that they are set.
CLIENT_ID_VARIABLE = "TF_VAR_neo4j_aura_client_id"
CLIENT_SECRET_VARIABLE = "TF_VAR_neo4j_aura_client_secret"  # checkov:skip=CKV_SECRET_6: a name, not a value

AuraMemory = Literal[
    "1GB", "2GB", "4GB", "8GB", "16GB", "24GB", "32GB", "48GB", "64GB", "128GB", "192GB", "256GB",
    "384GB", "512GB",
]  # fmt: skip
AuraStorage = Literal[
    "2GB", "4GB", "8GB", "16GB", "32GB", "48GB", "64GB", "96GB", "128GB", "192GB", "256GB", "384GB",
    "512GB", "768GB", "1024GB", "1536GB", "2048GB",
]  # fmt: skip
# free-db: AuraDB Free; professional-db: AuraDB Professional; enterprise-db: AuraDB Virtual
# Dedicated Cloud; business-critical: AuraDB Business Critical; *-ds: AuraDS (graph data science).
# Which of them a project may create depends on the project's plan.
AuraType = Literal[
    "free-db", "professional-db", "enterprise-db", "business-critical", "professional-ds", "enterprise-ds"
]  # fmt: skip
AuraCloudProvider = Literal["aws", "gcp", "azure"]
AuraVersion = Literal["5"]


class AuraNeo4j(GraphSchema):
    """One AuraDB instance. Only `memory` (and the instance's name) can change after it is created:
    the provider sends nothing else on update (docs/cloud.md, "Neo4j AuraDB")."""

    backend: Literal["aura"]
    # The Aura project (the API's tenant) the instance belongs to: Aura console > project > Settings.
    project_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")
    # The cloud provider's own region name: "eu-west-1" on aws, "europe-west1" on gcp, "westeurope"
    # on azure.
    region: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")
    cloud_provider: AuraCloudProvider = "aws"
    memory: AuraMemory = "1GB"
    # Aura sizes storage from memory unless it is given.
    storage: AuraStorage | None = None
    # The provider's default is free-db, which Aura pauses when idle: never right for a service.
    type: AuraType = "professional-db"
    version: AuraVersion = "5"
