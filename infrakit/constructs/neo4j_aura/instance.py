"""Neo4j AuraDB: the managed backend of the graph store."""

from __future__ import annotations

from constructs import Construct

from infrakit.bindings import neo4j_aura as aura
from infrakit.config.neo4j_aura import CLIENT_ID_VARIABLE, CLIENT_SECRET_VARIABLE, AuraNeo4j
from infrakit.config.types import SecretRef
from infrakit.constructs.protection import prevent_destroy
from infrakit.constructs.secret_value import SecretValue
from infrakit.contract import Endpoint


class AuraInstance(Construct):
    """One AuraDB instance and the provider that manages it.

    The provider's credentials are sensitive Terraform variables (TF_VAR_neo4j_aura_client_id and
    TF_VAR_neo4j_aura_client_secret), read by Terraform at apply time. The instance's password comes
    from Aura once, in the create response; it stays in the Terraform state (the provider marks it
    sensitive) and reaches the services only as a Secrets Manager secret (infrakit/stacks/fargate_wiring.py).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        config: AuraNeo4j,
        protect: bool = True,  # refuse destroy; an environment that is disposable says so
    ):
        super().__init__(scope, id_)
        client_id = SecretValue(
            self, "client-id", source=SecretRef(env=CLIENT_ID_VARIABLE), description="Aura API client id"
        )
        client_secret = SecretValue(
            self,
            "client-secret",
            source=SecretRef(env=CLIENT_SECRET_VARIABLE),
            description="Aura API client secret",
        )
        aura.Neo4jAuraProvider(self, "provider", client_id=client_id.value, client_secret=client_secret.value)
        self.instance = aura.Neo4jAuraInstance(
            self,
            "instance",
            name=name,
            project_id=config.project_id,
            region=config.region,
            cloud_provider=config.cloud_provider,
            type=config.type,
            memory=config.memory,
            version=config.version,
            storage=config.storage,
        )
        # Deleting the instance deletes the graph; nothing in the provider keeps a copy first.
        prevent_destroy(self.instance, when=protect)

        self.neo4j_uri = Endpoint.everywhere(self.instance.connection_url)
        self.username = Endpoint.everywhere(self.instance.username)
        self.password = Endpoint.everywhere(self.instance.password)
        self.docker_service = None
