"""The private Docker network that every local service joins."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import Network


class LocalNetwork(Construct):
    """A user-defined bridge network: services find each other by alias, nothing else joins."""

    def __init__(self, scope: Construct, id_: str, *, name: str, labels: dict[str, str]):
        super().__init__(scope, id_)
        self.prefix = name  # plain string, for naming what joins the network
        self.labels = labels
        # Referencing the resource attribute (a token) gives joiners a dependency on the network.
        self.network_name: str = Network(
            self,
            "network",
            name=name,
            driver="bridge",
            labels=[{"label": k, "value": v} for k, v in sorted(labels.items())],
        ).name
