"""IAM trust policies, written once."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)


def assume_role_policy(scope: Construct, id_: str, service: str) -> str:
    """A trust policy letting one AWS service principal assume the role."""
    document: str = DataAwsIamPolicyDocument(
        scope,
        id_,
        statement=[statement(["sts:AssumeRole"], principals=principals("Service", service))],
    ).json
    return document


def statement(
    actions: list[str],
    resources: list[str] | None = None,
    *,
    sid: str | None = None,
    effect: str = "Allow",
    principals: list[DataAwsIamPolicyDocumentStatementPrincipals] | None = None,
    conditions: list[DataAwsIamPolicyDocumentStatementCondition] | None = None,
) -> DataAwsIamPolicyDocumentStatement:
    return DataAwsIamPolicyDocumentStatement(
        sid=sid,
        effect=effect,
        actions=actions,
        resources=resources,
        principals=principals,
        condition=conditions,
    )


def principals(kind: str, *identifiers: str) -> list[DataAwsIamPolicyDocumentStatementPrincipals]:
    return [DataAwsIamPolicyDocumentStatementPrincipals(type=kind, identifiers=list(identifiers))]


def condition(test: str, variable: str, *values: str) -> list[DataAwsIamPolicyDocumentStatementCondition]:
    return [DataAwsIamPolicyDocumentStatementCondition(test=test, variable=variable, values=list(values))]
