"""Stack outputs: the connection contract, as the post-apply bootstrap reads it."""

from __future__ import annotations

from infrakit.cdk import TerraformOutput, TerraformStack
from infrakit.contract import SENSITIVE, ConnectionContract


def publish_contract(stack: TerraformStack, contract: ConnectionContract) -> None:
    for name, endpoint in contract.values():
        TerraformOutput(
            stack,
            name,
            value=endpoint.from_operator,
            sensitive=name in SENSITIVE,
        )
