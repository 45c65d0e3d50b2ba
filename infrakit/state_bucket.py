"""The S3 bucket that holds Terraform state, encrypted with a customer-managed KMS key of its own.

`scripts/create-state-bucket.sh ENV` runs `python -m infrakit.state_bucket environments/ENV.toml`.
The state holds the database password, the Redis AUTH token and the Supabase keys in clear, so
reading an object must take more than `s3:GetObject`: each one is encrypted (SSE-KMS) with a key
whose policy lets only the deploying principals use it, named in $STATE_KEY_PRINCIPALS.

Idempotent: it looks first, changes only what differs, and says what it changed. The key is found
again by its alias (`state_key_alias`), never created twice. On a bucket whose objects are under
another encryption (SSE-S3, or SSE-KMS with the AWS managed key aws/s3), it switches the default
encryption and re-encrypts each object by copying it onto itself with the key.

AWS documentation relied on:
- KMS key policies do not let IAM policies grant anything unless the key policy allows the account
  ("Default key policy", section "Allows access to the AWS account and enables IAM policies",
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html). The account is
  allowed to administer the key (the console's "key administrators" actions), not to use it: with
  `kms:*` any IAM policy granting `kms:Decrypt` on "*" (AdministratorAccess, PowerUserAccess) would
  read the state. Administration keeps the key manageable: an IAM administrator can still
  `PutKeyPolicy`, which also satisfies CreateKey's policy lockout safety check
  (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html).
- `kms:ViaService` limits the deployers' use to requests S3 makes for them
  (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service);
  S3 needs `kms:GenerateDataKey` to write and `kms:Decrypt` to read an SSE-KMS object
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
- Default encryption applies only to requests that send no encryption headers, and Terraform's S3
  backend with `encrypt = true` and no `kms_key_id` sends `x-amz-server-side-encryption: AES256`;
  so the bucket policy denies a PutObject that names another encryption
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html).
- S3 Bucket Keys cut the KMS requests S3 makes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
- CopyObject onto the same key with new encryption settings re-encrypts an object, up to 5 GB
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
- `ExpectedBucketOwner` makes S3 refuse if another account owns the bucket
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infrakit.state_key import state_key_alias

PROGRAM = "create-state-bucket"
PRINCIPALS_VARIABLE = "STATE_KEY_PRINCIPALS"
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# What the account's IAM policies may grant on the key: its administration, never its use. The
# console's "key administrators" statement, spelled out: kms:Create* would include CreateGrant,
# and a grant hands out use.
KEY_ADMINISTRATION = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
# What S3 asks KMS for on a deployer's behalf: a data key to write, a decryption to read.
KEY_USE = ("kms:Decrypt", "kms:GenerateDataKey")
DEPLOYERS_SID = "DeployersUseKeyThroughS3"
COPY_LIMIT = 5 * 1024**3  # CopyObject's limit; a Terraform state is far smaller

_PARTITION = "aws|aws-cn|aws-us-gov"
# arn:aws:iam::123456789012:role/name or role/path/name (IAM identifiers: a path's characters are
# ! to ~, a name's are letters, digits and +=,.@_-, at most 64).
_IAM_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):iam::(?P<account>\d{{12}}):(?P<kind>role|user)/"
    r"(?P<path>(?:[!-.0-~]+/)*)(?P<name>[\w+=,.@-]{1,64})$"
)
_ASSUMED_ROLE = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):sts::(?P<account>\d{{12}}):assumed-role/(?P<name>[^/]+)/"
)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


class StateBucketError(Exception):
    """A reason to stop, worded for the operator, with the exit status."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Principal:
    arn: str
    partition: str
    account: str
    kind: str  # role or user
    name: str


@dataclass(frozen=True)
class Clients:
    s3: Any
    kms: Any
    sts: Any


# ------------------------------------------------------------------------------ input


def parse_principals(value: str | None) -> tuple[Principal, ...]:
    """The IAM role or user ARNs in $STATE_KEY_PRINCIPALS, separated by commas or spaces. Checked
    before any AWS call; each refusal names the variable and the value."""
    found: dict[str, Principal] = {}
    for arn in re.split(r"[\s,]+", value or ""):
        if not arn:
            continue
        match = _IAM_ARN.match(arn)
        if match is None:
            raise StateBucketError(f"{PRINCIPALS_VARIABLE}: {_why_not_a_principal(arn)}", EXIT_USAGE)
        found[arn] = Principal(arn, match["partition"], match["account"], match["kind"], match["name"])
    return tuple(sorted(found.values(), key=lambda p: p.arn))


def _why_not_a_principal(arn: str) -> str:
    expected = "expected IAM role or user ARNs such as arn:aws:iam::<12-digit account>:role/<name>"
    assumed = _ASSUMED_ROLE.match(arn)
    if assumed:
        return (
            f"{arn!r} is a session of an assumed role; name the role itself, "
            f"arn:{assumed['partition']}:iam::{assumed['account']}:role/<path/>{assumed['name']}"
        )
    if arn == "*" or re.match(rf"^(arn:({_PARTITION}):iam::)?\d{{12}}(:root)?$", arn):
        return (
            f"{arn!r} names a whole account, which would let any IAM policy in it grant use of the "
            f"state key; {expected}"
        )
    return f"{arn!r} is not an IAM role or user ARN; {expected}"


def read_state_table(environment_file: Path) -> tuple[str, str]:
    """The [state] bucket and region of an environment file."""
    try:
        with environment_file.open("rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise StateBucketError(f"cannot read {environment_file}: {error.strerror}", EXIT_USAGE) from None
    except tomllib.TOMLDecodeError as error:
        raise StateBucketError(f"{environment_file} is not valid TOML: {error}", EXIT_USAGE) from None
    state = data.get("state")
    if not state:
        raise StateBucketError(f"{environment_file} has no [state] table; it keeps state locally", EXIT_USAGE)
    bucket, region = state.get("bucket"), state.get("region")
    if not isinstance(bucket, str) or not _BUCKET.match(bucket):
        raise StateBucketError(
            f"{environment_file}: [state] bucket = {bucket!r} is not an S3 bucket name "
            "(3 to 63 lowercase letters, digits, dots and hyphens)",
            EXIT_USAGE,
        )
    if not isinstance(region, str) or not _REGION.match(region):
        raise StateBucketError(
            f"{environment_file}: [state] region = {region!r} is not an AWS region such as eu-west-1",
            EXIT_USAGE,
        )
    return bucket, region


# ------------------------------------------------------------------------------ the documents


def key_policy(
    *, partition: str, account: str, region: str, principals: Sequence[Principal]
) -> dict[str, Any]:
    """The state key's policy: the account administers the key; only `principals` use it, and only
    through S3 in the key's region. A key policy is a resource policy: "Resource": "*" is this key."""
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersKeyButCannotUseIt",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": list(KEY_ADMINISTRATION),
                "Resource": "*",
            },
            {
                "Sid": DEPLOYERS_SID,
                "Effect": "Allow",
                "Principal": {"AWS": [p.arn for p in principals]},
                "Action": list(KEY_USE),
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.{suffix}"}},
            },
        ],
    }


def bucket_policy(*, partition: str, bucket: str, key_arn: str, alias_arn: str) -> dict[str, Any]:
    """TLS only, as before; and no object written under any encryption but the state key's. A
    request with no encryption header gets the default (the key). The key may be named by its ARN,
    its alias ARN or its alias name (Terraform's `kms_key_id` accepts an alias name)."""
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    objects = f"{bucket_arn}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, objects],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "NoKeyButTheStateKey",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "StringNotEqualsIfExists": {
                        "s3:x-amz-server-side-encryption-aws-kms-key-id": [
                            key_arn,
                            alias_arn,
                            alias_arn.split(":", 5)[5],
                        ]
                    }
                },
            },
            {
                # An encryption header without a key ID: AES256 (SSE-S3), or aws:kms, which S3
                # then serves with the AWS managed key aws/s3.
                "Sid": "NoEncryptionButTheStateKey",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "Null": {
                        "s3:x-amz-server-side-encryption": "false",
                        "s3:x-amz-server-side-encryption-aws-kms-key-id": "true",
                    }
                },
            },
            {
                "Sid": "NoCustomerProvidedKeys",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
            },
        ],
    }


PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def encryption_rule(key_arn: str) -> dict[str, Any]:
    """The bucket's default encryption: SSE-KMS with the key's ARN (an alias would be resolved in
    the requester's account), and an S3 Bucket Key."""
    return {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
        "BucketKeyEnabled": True,
    }


def _canonical(value: Any) -> Any:
    """A policy document compared as AWS reads it: the order of list items does not matter, and a
    one-item list means its item."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return items[0] if len(items) == 1 else items
    return value


def same_policy(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return bool(_canonical(dict(a)) == _canonical(dict(b)))


def admitted_principals(policy: Mapping[str, Any]) -> list[str] | None:
    """The principals the deployers' statement of a key policy names, or None if it has none
    (a policy this program did not write)."""
    for statement in policy.get("Statement", []):
        if isinstance(statement, dict) and statement.get("Sid") == DEPLOYERS_SID:
            named = statement.get("Principal", {}).get("AWS", [])
            return sorted([named] if isinstance(named, str) else named)
    return None


def describe_encryption(algorithm: str | None, key: str | None) -> str:
    if algorithm == "AES256":
        return "SSE-S3 (AES256)"
    if algorithm and algorithm.startswith("aws:kms"):
        return f"SSE-KMS with {key}" if key else "SSE-KMS with the AWS managed key aws/s3"
    return algorithm or "no encryption"


# ------------------------------------------------------------------------------ AWS calls


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _refused(service: str, operation: str, error: Exception) -> StateBucketError:
    if isinstance(error, ClientError):
        what = f"{_code(error)}: {error.response.get('Error', {}).get('Message', '')}".rstrip(": ")
        fix = f"check that the credentials may call {service}:{operation}"
    else:
        what = str(error)
        fix = "check the AWS credentials (aws sts get-caller-identity) and the network"
    return StateBucketError(f"{service}:{operation} failed ({what}); {fix}")


def _call(client: Any, service: str, operation: str, **params: Any) -> Any:
    method = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
    try:
        return getattr(client, method)(**params)
    except (ClientError, BotoCoreError) as error:
        raise _refused(service, operation, error) from None


def _missing(client: Any, service: str, operation: str, codes: set[str], **params: Any) -> Any | None:
    """The call's answer, or None where AWS answers one of `codes` (the thing does not exist)."""
    method = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
    try:
        return getattr(client, method)(**params)
    except ClientError as error:
        if _code(error) in codes:
            return None
        raise _refused(service, operation, error) from None
    except BotoCoreError as error:
        raise _refused(service, operation, error) from None


# ------------------------------------------------------------------------------ the run


@dataclass
class StateObject:
    key: str
    etag: str
    size: int
    encryption: str


def ensure_state_bucket(
    bucket: str,
    region: str,
    principals: Sequence[Principal],
    clients: Clients,
    say: Callable[[str], None],
) -> list[str]:
    """Makes the bucket and its key what they should be; returns what it changed (empty when
    nothing had to). Every check comes first, so a refusal leaves everything as it was."""
    s3, kms = clients.s3, clients.kms
    identity = _call(clients.sts, "sts", "GetCallerIdentity")
    caller, account = str(identity["Arn"]), str(identity["Account"])
    partition = caller.split(":")[1]
    for principal in principals:
        if (principal.partition, principal.account) != (partition, account):
            raise StateBucketError(
                f"{PRINCIPALS_VARIABLE}: {principal.arn} is not in this account ({account}, where the "
                "bucket and its key are): name roles or users of this account",
                EXIT_USAGE,
            )
    owner = {"ExpectedBucketOwner": account}
    alias = state_key_alias(bucket)
    alias_arn = f"arn:{partition}:kms:{region}:{account}:{alias}"

    # ---- look
    exists = _bucket_exists(s3, bucket, region, owner)
    key = _missing(kms, "kms", "DescribeKey", {"NotFoundException"}, KeyId=alias)
    metadata = key["KeyMetadata"] if key else None
    if metadata:
        _usable(metadata, alias)
    elif not principals:
        raise StateBucketError(
            f"{PRINCIPALS_VARIABLE} is not set: the state key {alias} does not exist yet, and its policy "
            "must name who deploys. Set it to the IAM role ARNs that run Terraform for this bucket "
            "(comma-separated), for example "
            f"{PRINCIPALS_VARIABLE}=arn:{partition}:iam::{account}:role/deployer",
            EXIT_USAGE,
        )
    key_arn = str(metadata["Arn"]) if metadata else None
    wanted_key_policy = key_policy(partition=partition, account=account, region=region, principals=principals)
    current_key_policy: dict[str, Any] | None = None
    admitted = [p.arn for p in principals]
    if metadata:
        answer = _call(kms, "kms", "GetKeyPolicy", KeyId=metadata["KeyId"], PolicyName="default")
        current_key_policy = json.loads(answer["Policy"])
        if not principals:
            admitted = admitted_principals(current_key_policy) or []
    stale, locks = _objects_to_encrypt(s3, bucket, key_arn, owner) if exists else ([], [])
    if stale:
        _may_reencrypt(stale, locks, caller, admitted, bucket)

    # ---- change
    changes: list[str] = []
    if metadata is None:
        key_arn = _create_key(kms, bucket, alias, wanted_key_policy, say)
        changes.append("created the state key")
    else:
        assert key_arn is not None and current_key_policy is not None
        key_id = metadata["KeyId"]
        if principals and not same_policy(current_key_policy, wanted_key_policy):
            try:
                kms.put_key_policy(
                    KeyId=key_id, PolicyName="default", Policy=json.dumps(wanted_key_policy, sort_keys=True)
                )
            except (ClientError, BotoCoreError) as error:
                raise _policy_refused("PutKeyPolicy", error) from None
            before = admitted_principals(current_key_policy)
            was = ", ".join(before) if before is not None else "a policy this script did not write"
            say(f"key policy of {alias} replaced: it admits {', '.join(admitted)} (was: {was})")
            changes.append("key policy")
        elif principals:
            say(f"key {alias} exists; its policy admits {', '.join(admitted)}")
        elif admitted:
            kept = f"kept, {PRINCIPALS_VARIABLE} is not set"
            say(f"key {alias} exists; its policy ({kept}) admits {', '.join(admitted)}")
        else:
            say(f"key {alias} exists; its policy was not written by this script and is kept as it is")
        rotation = _call(kms, "kms", "GetKeyRotationStatus", KeyId=key_id)
        if not rotation.get("KeyRotationEnabled"):
            _call(kms, "kms", "EnableKeyRotation", KeyId=key_id)
            say(f"key {alias}: yearly automatic rotation turned on")
            changes.append("key rotation")

    if not exists:
        say(f"creating bucket {bucket} in {region}")
        configuration = (
            {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        _call(s3, "s3", "CreateBucket", Bucket=bucket, **configuration)
        changes.append("created the bucket")
    else:
        say(f"bucket {bucket} exists")
    changes += _protect(s3, bucket, key_arn, alias, alias_arn, partition, owner, new=not exists, say=say)
    if stale:
        _reencrypt(s3, bucket, key_arn, alias, stale, owner, say)
        changes.append(f"re-encrypted {len(stale)} objects")
    return changes


def _bucket_exists(s3: Any, bucket: str, region: str, owner: dict[str, str]) -> bool:
    try:
        answer = s3.head_bucket(Bucket=bucket, **owner)
    except ClientError as error:
        if _code(error) in {"404", "NoSuchBucket", "NotFound"}:
            return False
        if _code(error) in {"403", "AccessDenied"} or _status(error) == 403:
            raise StateBucketError(
                f"bucket {bucket} exists but is not this account's, or these credentials may not read it "
                "(s3:ListBucket). Bucket names are global: if another account owns it, choose another "
                "name in [state] bucket"
            ) from None
        if _code(error) in {"301", "PermanentRedirect"}:
            raise StateBucketError(
                f"bucket {bucket} is in another region than [state] region = {region!r}; set the region "
                "it is in"
            ) from None
        raise _refused("s3", "HeadBucket", error) from None
    except BotoCoreError as error:
        raise _refused("s3", "HeadBucket", error) from None
    found = answer.get("BucketRegion")
    if found and found != region:
        raise StateBucketError(
            f"bucket {bucket} is in {found}, but [state] region = {region!r}; set region = {found!r}"
        )
    return True


def _usable(metadata: Mapping[str, Any], alias: str) -> None:
    arn, state = metadata.get("Arn"), metadata.get("KeyState")
    if metadata.get("KeyManager") != "CUSTOMER" or metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != (
        "SYMMETRIC_DEFAULT"
    ):
        raise StateBucketError(
            f"{alias} points at {arn}, which is not a customer-managed symmetric key; point the alias "
            f"at one (aws kms update-alias) or delete it (aws kms delete-alias --alias-name {alias})"
        )
    if state == "PendingDeletion":
        raise StateBucketError(
            f"the state key {arn} ({alias}) is scheduled for deletion; cancel it with "
            f"`aws kms cancel-key-deletion --key-id {arn}` then `aws kms enable-key --key-id {arn}`, "
            "and run this again"
        )
    if state == "Disabled":
        raise StateBucketError(
            f"the state key {arn} ({alias}) is disabled: nobody can read or write state; "
            f"`aws kms enable-key --key-id {arn}`, then run this again"
        )
    if state != "Enabled":
        raise StateBucketError(f"the state key {arn} ({alias}) is {state}; it must be Enabled")


def _objects_to_encrypt(
    s3: Any, bucket: str, key_arn: str | None, owner: dict[str, str]
) -> tuple[list[StateObject], list[str]]:
    """Each object in the bucket not yet encrypted with the state key (all of them if there is no
    key yet), and the Terraform locks (.tflock objects) held. HeadObject reads only metadata: it
    needs no KMS permission."""
    stale: list[StateObject] = []
    locks: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = _call(s3, "s3", "ListObjectsV2", Bucket=bucket, **owner, **token)
        for item in page.get("Contents", []):
            if item["Key"].endswith(".tflock"):
                locks.append(item["Key"])
            head = _call(s3, "s3", "HeadObject", Bucket=bucket, Key=item["Key"], **owner)
            algorithm, key = head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")
            if key_arn is None or algorithm != "aws:kms" or key != key_arn:
                stale.append(
                    StateObject(
                        item["Key"],
                        head["ETag"],
                        int(head.get("ContentLength", 0)),
                        describe_encryption(algorithm, key),
                    )
                )
        if not page.get("IsTruncated"):
            return stale, locks
        token = {"ContinuationToken": page["NextContinuationToken"]}


def _may_reencrypt(
    stale: Sequence[StateObject], locks: Sequence[str], caller: str, admitted: Sequence[str], bucket: str
) -> None:
    if locks:
        raise StateBucketError(
            f"s3://{bucket}/{locks[0]} is a Terraform lock: a run is under way, or an interrupted one left "
            "it (then `terraform force-unlock`). Re-encrypting state under a run could undo its write: "
            "run this again when no run holds the state"
        )
    big = [o.key for o in stale if o.size > COPY_LIMIT]
    if big:
        raise StateBucketError(
            f"s3://{bucket}/{big[0]} is over 5 GB, more than CopyObject re-encrypts; it is no Terraform "
            "state: move it out of the state bucket"
        )
    if admitted and not _caller_admitted(caller, admitted):
        raise StateBucketError(
            f"re-encrypting the {len(stale)} state objects needs the state key through S3, which its "
            f"policy grants only to {', '.join(admitted)}; you run as {caller}: add your role to "
            f"{PRINCIPALS_VARIABLE}, or run this as one of them",
            EXIT_USAGE,
        )


def _caller_admitted(caller: str, admitted: Sequence[str]) -> bool:
    if caller in admitted:
        return True
    session = _ASSUMED_ROLE.match(caller)
    if session is None:
        return False
    for arn in admitted:
        role = _IAM_ARN.match(arn)
        if (
            role
            and role["kind"] == "role"
            and (role["partition"], role["account"], role["name"])
            == (session["partition"], session["account"], session["name"])
        ):
            return True
    return False


def _policy_refused(operation: str, error: Exception) -> StateBucketError:
    if isinstance(error, ClientError) and _code(error) == "MalformedPolicyDocumentException":
        return StateBucketError(
            f"KMS refused the state key's policy ({error.response.get('Error', {}).get('Message', '')}); "
            f"most often an ARN in {PRINCIPALS_VARIABLE} names a role or user that does not exist, or "
            "these credentials may not call kms:PutKeyPolicy (KMS checks it, so that the key stays "
            "manageable)"
        )
    return _refused("kms", operation, error)


def _create_key(
    kms: Any, bucket: str, alias: str, policy: Mapping[str, Any], say: Callable[[str], None]
) -> str:
    try:
        created = kms.create_key(
            Description=f"Terraform state in s3://{bucket}",
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Policy=json.dumps(policy, sort_keys=True),
            Tags=[{"TagKey": "infrakit:state-bucket", "TagValue": bucket}],
        )["KeyMetadata"]
    except (ClientError, BotoCoreError) as error:
        raise _policy_refused("CreateKey", error) from None
    key_id, key_arn = created["KeyId"], str(created["Arn"])
    try:
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    except ClientError as error:
        if _code(error) != "AlreadyExistsException":
            raise _refused("kms", "CreateAlias", error) from None
        # Another run created the key at the same moment: keep its key, not a second one.
        _call(kms, "kms", "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
        raise StateBucketError(
            f"another run created {alias} meanwhile; the key this run created ({key_arn}) is scheduled "
            "for deletion in 7 days. Run this again"
        ) from None
    _call(kms, "kms", "EnableKeyRotation", KeyId=key_id)
    policy_principals = admitted_principals(policy) or []
    say(
        f"created KMS key {key_arn} as {alias} (yearly automatic rotation on); "
        f"it admits {', '.join(policy_principals)}"
    )
    return key_arn


def _protect(
    s3: Any,
    bucket: str,
    key_arn: str | None,
    alias: str,
    alias_arn: str,
    partition: str,
    owner: dict[str, str],
    *,
    new: bool,
    say: Callable[[str], None],
) -> list[str]:
    """Versioning (a bad state write can be rolled back), no public access, default encryption with
    the key, and the bucket policy. On an existing bucket, each is read first and written only if
    it differs."""
    assert key_arn is not None
    changes = []
    versioning = None if new else _call(s3, "s3", "GetBucketVersioning", Bucket=bucket, **owner)
    if versioning is None or versioning.get("Status") != "Enabled":
        _call(
            s3,
            "s3",
            "PutBucketVersioning",
            Bucket=bucket,
            VersioningConfiguration={"Status": "Enabled"},
            **owner,
        )
        say("versioning: turned on")
        changes.append("versioning")

    block = None
    if not new:
        answer = _missing(
            s3, "s3", "GetPublicAccessBlock", {"NoSuchPublicAccessBlockConfiguration"}, Bucket=bucket, **owner
        )
        block = answer["PublicAccessBlockConfiguration"] if answer else None
    if block != PUBLIC_ACCESS_BLOCK:
        _call(
            s3,
            "s3",
            "PutPublicAccessBlock",
            Bucket=bucket,
            PublicAccessBlockConfiguration=dict(PUBLIC_ACCESS_BLOCK),
            **owner,
        )
        say("public access: blocked")
        changes.append("public access block")

    wanted = encryption_rule(key_arn)
    rules: list[dict[str, Any]] = []
    if not new:
        answer = _missing(
            s3,
            "s3",
            "GetBucketEncryption",
            {"ServerSideEncryptionConfigurationNotFoundError"},
            Bucket=bucket,
            **owner,
        )
        rules = answer["ServerSideEncryptionConfiguration"]["Rules"] if answer else []
    if len(rules) != 1 or rules[0] != wanted:
        _call(
            s3,
            "s3",
            "PutBucketEncryption",
            Bucket=bucket,
            ServerSideEncryptionConfiguration={"Rules": [wanted]},
            **owner,
        )
        was = ""
        if rules:
            default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
            was = f" (was {describe_encryption(default.get('SSEAlgorithm'), default.get('KMSMasterKeyID'))})"
        say(f"default encryption: SSE-KMS with {alias} and an S3 Bucket Key{was}")
        changes.append("default encryption")

    policy = bucket_policy(partition=partition, bucket=bucket, key_arn=key_arn, alias_arn=alias_arn)
    current = None
    if not new:
        answer = _missing(s3, "s3", "GetBucketPolicy", {"NoSuchBucketPolicy"}, Bucket=bucket, **owner)
        current = json.loads(answer["Policy"]) if answer else None
    if current is None or not same_policy(current, policy):
        _call(s3, "s3", "PutBucketPolicy", Bucket=bucket, Policy=json.dumps(policy, sort_keys=True), **owner)
        say(f"bucket policy: TLS only, and no object written under another encryption than {alias}")
        changes.append("bucket policy")
    if not changes:
        say("versioning, public access block, default encryption and bucket policy: as they should be")
    return changes


def _reencrypt(
    s3: Any,
    bucket: str,
    key_arn: str | None,
    alias: str,
    stale: Sequence[StateObject],
    owner: dict[str, str],
    say: Callable[[str], None],
) -> None:
    """Copies each object onto itself with the key, if it is still the version that was looked at:
    a state written meanwhile is not overwritten with the older one."""
    for done, item in enumerate(stale):
        try:
            s3.copy_object(
                Bucket=bucket,
                Key=item.key,
                CopySource={"Bucket": bucket, "Key": item.key},
                CopySourceIfMatch=item.etag,
                MetadataDirective="COPY",
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=key_arn,
                BucketKeyEnabled=True,
                ExpectedBucketOwner=owner["ExpectedBucketOwner"],
                ExpectedSourceBucketOwner=owner["ExpectedBucketOwner"],
            )
        except ClientError as error:
            left = f"{done} of {len(stale)} objects were re-encrypted before it; "
            if _code(error) == "PreconditionFailed" or _status(error) == 412:
                raise StateBucketError(
                    f"s3://{bucket}/{item.key} changed while it was being re-encrypted (a Terraform run?); "
                    f"{left}run this again"
                ) from None
            raise StateBucketError(f"{left}{_refused('s3', 'CopyObject', error)}") from None
        except BotoCoreError as error:
            raise _refused("s3", "CopyObject", error) from None
        say(f"re-encrypted s3://{bucket}/{item.key} with {alias} (was {item.encryption})")
    say(
        f"re-encrypted {len(stale)} objects. Their earlier versions keep the old encryption (versioning "
        "keeps them for rollback) and hold the same secrets: see docs/operations.md, "
        '"Terraform state encryption", to delete them'
    )


# ------------------------------------------------------------------------------ command line


def default_clients(region: str) -> Clients:
    import boto3

    return Clients(
        s3=boto3.client("s3", region_name=region),
        kms=boto3.client("kms", region_name=region),
        sts=boto3.client("sts", region_name=region),
    )


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    clients: Callable[[str], Clients] = default_clients,
) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if environ is None else environ

    def say(line: str) -> None:
        print(f"{PROGRAM}: {line}", file=sys.stderr, flush=True)

    if len(args) != 1 or args[0].startswith("-"):
        say("usage: python -m infrakit.state_bucket environments/ENV.toml")
        return EXIT_USAGE
    try:
        # Both checks are local: nothing reaches AWS before they pass.
        principals = parse_principals(environ.get(PRINCIPALS_VARIABLE))
        bucket, region = read_state_table(Path(args[0]))
        changes = ensure_state_bucket(bucket, region, principals, clients(region), say)
    except StateBucketError as error:
        say(str(error))
        return error.code
    except KeyboardInterrupt:
        say("interrupted (Ctrl-C); what was done stays done, and running this again finishes the rest")
        return EXIT_INTERRUPTED
    if changes:
        say(f"state bucket {bucket} is ready; changed: {', '.join(changes)}")
    else:
        say(f"state bucket {bucket} is ready; nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
