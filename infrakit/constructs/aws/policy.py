"""IAM trust policies, written once."""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)


def assume_role_policy(
    scope: Construct,
    id_: str,
    service: str,
    *,
    source_account: str | None = None,
    source_arn: str | None = None,
) -> str:
    """A trust policy letting one AWS service principal assume the role.

    `source_account` and `source_arn` scope it against the cross-service confused deputy: the
    service may assume the role only on behalf of this account (`aws:SourceAccount`, StringEquals)
    and of the resources `source_arn` matches (`aws:SourceArn`, ArnLike, so it may end in `*`). Pass
    them only where the service's documentation says it sends them when assuming the role: a
    condition on a key the service does not send denies every assumption (IAM User Guide, "The
    confused deputy problem" and "AWS global condition context keys").
    """
    conditions = []
    if source_account is not None:
        conditions += condition("StringEquals", "aws:SourceAccount", source_account)
    if source_arn is not None:
        conditions += condition("ArnLike", "aws:SourceArn", source_arn)
    document: str = DataAwsIamPolicyDocument(
        scope,
        id_,
        statement=[
            statement(
                ["sts:AssumeRole"], principals=principals("Service", service), conditions=conditions or None
            )
        ],
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
