"""scripts/create-state-bucket.sh and infrakit/state_bucket.py: the Terraform state bucket, encrypted
with a customer-managed KMS key that only the deploying principals may use.

AWS is faked at the SDK boundary: real boto3 clients under botocore's Stubber, which checks each
call and its parameters in order, and answers nothing it was not told to expect. Nothing is sent.

What these tests cannot prove: that AWS evaluates the key policy and the bucket policy as its
documentation says (who may decrypt, which PutObject is denied); that KMS accepts the policy (it
refuses principals that do not exist, and checks that the caller can still administer the key);
that S3 re-encrypts an object copied onto itself; or that Terraform reads and writes its state
through all this. Those need a real account.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from tests.conftest import ROOT, offline_client

ACCOUNT = "480937561234"
REGION = "eu-west-1"
BUCKET = "corp-infrakit-terraform-state"
ALIAS = f"alias/terraform-state/{BUCKET}"
ALIAS_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:{ALIAS}"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
AWS_MANAGED_S3_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-aaaa-4bbb-8ccc-0123456789ab"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/deployer"
PLANNER = f"arn:aws:iam::{ACCOUNT}:role/ci/planner"
# The deployer role, assumed by a CI job: what STS answers GetCallerIdentity with.
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-4711"
OWNER = {"ExpectedBucketOwner": ACCOUNT}
VARIABLE = "STATE_KEY_PRINCIPALS"

# What the account's IAM policies must never be able to grant: use of the key.
KEY_USE_ACTIONS = {
    "kms:*",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:CreateGrant",
}

# The bucket policy the old scripts/create-state-bucket.sh wrote, verbatim but for the bucket.
OLD_BUCKET_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Sid":"TlsOnly","Effect":"Deny","Principal":"*",'
    f'"Action":"s3:*","Resource":["arn:aws:s3:::{BUCKET}","arn:aws:s3:::{BUCKET}/*"],'
    '"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}'
)
# ... and its default encryption: SSE-KMS with no key, which is the AWS managed key aws/s3.
OLD_ENCRYPTION = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}
KEY_ENCRYPTION = {
    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN},
    "BucketKeyEnabled": True,
}
ALL_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def deployers_statement(*principals: str) -> dict[str, Any]:
    return {
        "Sid": "DeployersUseKeyThroughS3",
        "Effect": "Allow",
        "Principal": {"AWS": list(principals)},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
    }


def written_key_policy(*principals: str) -> str:
    """A key policy as a first run writes it (what GetKeyPolicy then answers)."""
    from infrakit.state_bucket import KEY_ADMINISTRATION

    root = {
        "Sid": "AccountAdministersKeyButCannotUseIt",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": list(KEY_ADMINISTRATION),
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [root, deployers_statement(*principals)]})


def written_bucket_policy(bucket: str = BUCKET, key_arn: str = KEY_ARN) -> str:
    from infrakit.state_bucket import bucket_policy, state_key_alias

    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:{state_key_alias(bucket)}"
    return json.dumps(bucket_policy(partition="aws", bucket=bucket, key_arn=key_arn, alias_arn=alias_arn))


@dataclass
class Aws:
    s3: Any
    kms: Any
    sts: Any
    stubs: dict[str, Stubber]
    lines: list[str]

    def clients(self) -> Any:
        from infrakit.state_bucket import Clients

        return Clients(s3=self.s3, kms=self.kms, sts=self.sts)

    def run(self, *principals: str, bucket: str = BUCKET) -> list[str]:
        from infrakit.state_bucket import ensure_state_bucket, parse_principals

        return ensure_state_bucket(
            bucket, REGION, parse_principals(",".join(principals)), self.clients(), self.lines.append
        )

    def answer(self, service: str, operation: str, response: dict[str, Any], params: dict[str, Any]) -> None:
        self.stubs[service].add_response(operation, response, params)

    def refuse(self, service: str, operation: str, code: str, status: int, params: dict[str, Any]) -> None:
        self.stubs[service].add_client_error(
            operation, service_error_code=code, http_status_code=status, expected_params=params
        )

    def captured(self, service: str, operation: str) -> list[dict[str, Any]]:
        """The parameters of each `operation` call, as the code passed them."""
        seen: list[dict[str, Any]] = []
        client = getattr(self, service)
        client.meta.events.register(
            f"provide-client-params.{service}.{operation}", lambda params, **_: seen.append(dict(params))
        )
        return seen


@pytest.fixture
def aws() -> Iterator[Aws]:
    clients = {name: offline_client(name, REGION) for name in ("s3", "kms", "sts")}
    stubs = {name: Stubber(client) for name, client in clients.items()}
    for stub in stubs.values():
        stub.activate()
    yield Aws(**clients, stubs=stubs, lines=[])
    for stub in stubs.values():
        stub.assert_no_pending_responses()
        stub.deactivate()


# ------------------------------------------------------------------------------ what AWS answers


def caller(aws: Aws, arn: str = CALLER) -> None:
    aws.answer("sts", "get_caller_identity", {"UserId": "AROAEXAMPLE:ci", "Account": ACCOUNT, "Arn": arn}, {})


def bucket_found(aws: Aws) -> None:
    aws.answer("s3", "head_bucket", {"BucketRegion": REGION}, {"Bucket": BUCKET, **OWNER})


def bucket_missing(aws: Aws) -> None:
    aws.refuse("s3", "head_bucket", "404", 404, {"Bucket": BUCKET, **OWNER})


def key_found(aws: Aws) -> None:
    metadata = {
        "KeyId": KEY_ID,
        "Arn": KEY_ARN,
        "KeyState": "Enabled",
        "KeyManager": "CUSTOMER",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "Enabled": True,
    }
    aws.answer("kms", "describe_key", {"KeyMetadata": metadata}, {"KeyId": ALIAS})


def key_missing(aws: Aws) -> None:
    aws.refuse("kms", "describe_key", "NotFoundException", 400, {"KeyId": ALIAS})


def key_created(aws: Aws) -> None:
    created = {
        "Description": f"Terraform state in s3://{BUCKET}",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "Policy": ANY,
        "Tags": [{"TagKey": "infrakit:state-bucket", "TagValue": BUCKET}],
    }
    aws.answer("kms", "create_key", {"KeyMetadata": {"KeyId": KEY_ID, "Arn": KEY_ARN}}, created)
    aws.answer("kms", "create_alias", {}, {"AliasName": ALIAS, "TargetKeyId": KEY_ID})
    aws.answer("kms", "enable_key_rotation", {}, {"KeyId": KEY_ID})


def key_in_place(aws: Aws, *admitted: str) -> None:
    aws.answer(
        "kms",
        "get_key_policy",
        {"Policy": written_key_policy(*admitted)},
        {"KeyId": KEY_ID, "PolicyName": "default"},
    )
    aws.answer("kms", "get_key_rotation_status", {"KeyRotationEnabled": True}, {"KeyId": KEY_ID})


def objects(aws: Aws, *pages: dict[str, str]) -> None:
    """ListObjectsV2, one page per argument ({key: encryption}), then HeadObject for each object.
    An encryption is "AES256" (SSE-S3), "aws/s3" (SSE-KMS, AWS managed key) or "key" (the state key)."""
    for number, page in enumerate(pages):
        params: dict[str, Any] = {"Bucket": BUCKET, **OWNER}
        if number:
            params["ContinuationToken"] = f"page-{number}"
        more = (
            {"IsTruncated": True, "NextContinuationToken": f"page-{number + 1}"}
            if number < len(pages) - 1
            else {}
        )
        aws.answer("s3", "list_objects_v2", {"Contents": [{"Key": k} for k in page], **more}, params)
        for key, encryption in page.items():
            head: dict[str, Any] = {"ETag": f'"etag-{key}"', "ContentLength": 2048}
            if encryption == "AES256":
                head["ServerSideEncryption"] = "AES256"
            else:
                head |= {
                    "ServerSideEncryption": "aws:kms",
                    "BucketKeyEnabled": True,
                    "SSEKMSKeyId": KEY_ARN if encryption == "key" else AWS_MANAGED_S3_KEY,
                }
            aws.answer("s3", "head_object", head, {"Bucket": BUCKET, "Key": key, **OWNER})


def protections_in_place(aws: Aws) -> None:
    s3 = {"Bucket": BUCKET, **OWNER}
    aws.answer("s3", "get_bucket_versioning", {"Status": "Enabled"}, s3)
    aws.answer("s3", "get_public_access_block", {"PublicAccessBlockConfiguration": ALL_BLOCKED}, s3)
    aws.answer(
        "s3", "get_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [KEY_ENCRYPTION]}}, s3
    )
    aws.answer("s3", "get_bucket_policy", {"Policy": written_bucket_policy()}, s3)


# ------------------------------------------------------------------------------ the tests


def test_first_run_creates_the_key_for_the_deployers_then_the_bucket_encrypted_with_it(aws: Aws) -> None:
    """A new bucket: the key is created with a policy that lets the account administer it but not
    use it, and lets the named deployers use it only through S3; then its alias and yearly
    rotation; then the bucket, with versioning, the public access block, SSE-KMS by default with
    that key and an S3 Bucket Key, and the bucket policy. Cannot prove that KMS and S3 enforce
    these documents as documented."""
    caller(aws)
    bucket_missing(aws)
    key_missing(aws)
    key_created(aws)
    new_key = aws.captured("kms", "CreateKey")
    s3 = {"Bucket": BUCKET, **OWNER}
    aws.answer(
        "s3",
        "create_bucket",
        {},
        {"Bucket": BUCKET, "CreateBucketConfiguration": {"LocationConstraint": REGION}},
    )
    aws.answer("s3", "put_bucket_versioning", {}, {**s3, "VersioningConfiguration": {"Status": "Enabled"}})
    aws.answer("s3", "put_public_access_block", {}, {**s3, "PublicAccessBlockConfiguration": ALL_BLOCKED})
    aws.answer(
        "s3",
        "put_bucket_encryption",
        {},
        {**s3, "ServerSideEncryptionConfiguration": {"Rules": [KEY_ENCRYPTION]}},
    )
    aws.answer("s3", "put_bucket_policy", {}, {**s3, "Policy": ANY})
    new_policy = aws.captured("s3", "PutBucketPolicy")

    changes = aws.run(DEPLOYER, PLANNER)

    assert changes == [
        "created the state key",
        "created the bucket",
        "versioning",
        "public access block",
        "default encryption",
        "bucket policy",
    ]
    policy = json.loads(new_key[0]["Policy"])
    root, deployers = policy["Statement"]
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert "kms:PutKeyPolicy" in root["Action"] and "kms:ScheduleKeyDeletion" in root["Action"]
    assert not KEY_USE_ACTIONS & set(root["Action"]), "IAM policies could grant use of the key"
    assert "Condition" not in root
    assert deployers == deployers_statement(PLANNER, DEPLOYER)  # sorted: the same on every run

    statements = {s["Sid"]: s for s in json.loads(new_policy[0]["Policy"])["Statement"]}
    assert statements["TlsOnly"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    only_key = statements["NoKeyButTheStateKey"]
    assert (only_key["Effect"], only_key["Action"], only_key["Resource"]) == (
        "Deny",
        "s3:PutObject",
        f"arn:aws:s3:::{BUCKET}/*",
    )
    assert only_key["Condition"] == {
        "StringNotEqualsIfExists": {
            "s3:x-amz-server-side-encryption-aws-kms-key-id": [KEY_ARN, ALIAS_ARN, ALIAS]
        }
    }
    # Terraform's S3 backend with encrypt = true and no kms_key_id sends AES256 and no key ID.
    assert statements["NoEncryptionButTheStateKey"]["Condition"] == {
        "Null": {
            "s3:x-amz-server-side-encryption": "false",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": "true",
        }
    }
    assert statements["NoCustomerProvidedKeys"]["Condition"] == {
        "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}
    }
    created = f"created KMS key {KEY_ARN} as {ALIAS} (yearly automatic rotation on)"
    assert f"{created}; it admits {PLANNER}, {DEPLOYER}" in aws.lines
    assert f"creating bucket {BUCKET} in {REGION}" in aws.lines


@pytest.mark.parametrize("principals", [(), (DEPLOYER,)], ids=["variable-unset", "same-principals"])
def test_a_rerun_changes_nothing_and_says_so(aws: Aws, principals: tuple[str, ...]) -> None:
    """Everything already in place: the run only reads (the Stubber fails any create, put or copy
    it was not told to expect). Unset, the variable leaves the key policy as it is and the run
    names whom it admits. Cannot prove that AWS answers the Get calls in exactly these shapes for
    every bucket (buckets created long ago may lack some configuration)."""
    caller(aws)
    bucket_found(aws)
    key_found(aws)
    key_in_place(aws, DEPLOYER)
    objects(aws, {"infrakit/dev.tfstate": "key", "infrakit/dev-images.tfstate": "key"})
    protections_in_place(aws)

    assert aws.run(*principals) == []
    assert f"bucket {BUCKET} exists" in aws.lines
    assert any(
        line.startswith(f"key {ALIAS} exists;") and line.endswith(f"admits {DEPLOYER}") for line in aws.lines
    )
    assert (
        "versioning, public access block, default encryption and bucket policy: as they should be"
        in aws.lines
    )


def test_a_bucket_on_aws_s3_moves_to_the_new_key_and_its_objects_are_reencrypted(aws: Aws) -> None:
    """The bucket as the old script left it (SSE-KMS with aws/s3, TLS-only policy) with state objects
    written by Terraform (AES256) or under aws/s3, over two list pages: the key is created, default
    encryption and the bucket policy switch to it, and each object is copied onto itself with the
    key's ARN, only if it is still the version that was looked at (CopySourceIfMatch). Cannot prove
    that S3 re-encrypts on such a copy, nor what happens to the objects' earlier versions beyond
    what the output says."""
    caller(aws)
    bucket_found(aws)
    key_missing(aws)
    objects(aws, {"infrakit/dev.tfstate": "AES256"}, {"infrakit/dev-images.tfstate": "aws/s3"})
    key_created(aws)
    s3 = {"Bucket": BUCKET, **OWNER}
    aws.answer("s3", "get_bucket_versioning", {"Status": "Enabled"}, s3)
    aws.answer("s3", "get_public_access_block", {"PublicAccessBlockConfiguration": ALL_BLOCKED}, s3)
    aws.answer(
        "s3", "get_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [OLD_ENCRYPTION]}}, s3
    )
    aws.answer(
        "s3",
        "put_bucket_encryption",
        {},
        {**s3, "ServerSideEncryptionConfiguration": {"Rules": [KEY_ENCRYPTION]}},
    )
    aws.answer("s3", "get_bucket_policy", {"Policy": OLD_BUCKET_POLICY}, s3)
    aws.answer("s3", "put_bucket_policy", {}, {**s3, "Policy": ANY})
    for key in ("infrakit/dev.tfstate", "infrakit/dev-images.tfstate"):
        copy = {
            "Bucket": BUCKET,
            "Key": key,
            "CopySource": {"Bucket": BUCKET, "Key": key},
            "CopySourceIfMatch": f'"etag-{key}"',
            "MetadataDirective": "COPY",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": KEY_ARN,
            "BucketKeyEnabled": True,
            "ExpectedBucketOwner": ACCOUNT,
            "ExpectedSourceBucketOwner": ACCOUNT,
        }
        aws.answer("s3", "copy_object", {"CopyObjectResult": {"ETag": '"new"'}}, copy)

    changes = aws.run(DEPLOYER)

    assert changes == [
        "created the state key",
        "default encryption",
        "bucket policy",
        "re-encrypted 2 objects",
    ]
    assert (
        f"default encryption: SSE-KMS with {ALIAS} and an S3 Bucket Key "
        "(was SSE-KMS with the AWS managed key aws/s3)"
    ) in aws.lines
    assert f"re-encrypted s3://{BUCKET}/infrakit/dev.tfstate with {ALIAS} (was SSE-S3 (AES256))" in aws.lines
    assert (
        f"re-encrypted s3://{BUCKET}/infrakit/dev-images.tfstate with {ALIAS} "
        f"(was SSE-KMS with {AWS_MANAGED_S3_KEY})"
    ) in aws.lines
    assert any("earlier versions keep the old encryption" in line for line in aws.lines)


def test_new_principals_replace_the_key_policy_and_nothing_else(aws: Aws) -> None:
    """A second deployer named on a re-run: PutKeyPolicy with both, the rest only read. Cannot prove
    that KMS accepts the new principals (it refuses ARNs of roles that do not exist)."""
    caller(aws)
    bucket_found(aws)
    key_found(aws)
    aws.answer(
        "kms",
        "get_key_policy",
        {"Policy": written_key_policy(DEPLOYER)},
        {"KeyId": KEY_ID, "PolicyName": "default"},
    )
    objects(aws, {"infrakit/dev.tfstate": "key"})
    aws.answer("kms", "put_key_policy", {}, {"KeyId": KEY_ID, "PolicyName": "default", "Policy": ANY})
    replaced = aws.captured("kms", "PutKeyPolicy")
    aws.answer("kms", "get_key_rotation_status", {"KeyRotationEnabled": True}, {"KeyId": KEY_ID})
    protections_in_place(aws)

    assert aws.run(DEPLOYER, PLANNER) == ["key policy"]
    assert json.loads(replaced[0]["Policy"])["Statement"][1] == deployers_statement(PLANNER, DEPLOYER)
    assert f"key policy of {ALIAS} replaced: it admits {PLANNER}, {DEPLOYER} (was: {DEPLOYER})" in aws.lines


BAD_PRINCIPALS = {
    "session": (f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-4711", "name the role itself"),
    "root": (f"arn:aws:iam::{ACCOUNT}:root", "names a whole account"),
    "everyone": ("*", "names a whole account"),
    "bare-name": ("deployer", "is not an IAM role or user ARN"),
    "short-account": ("arn:aws:iam::48093756:role/deployer", "is not an IAM role or user ARN"),
    "group": (f"arn:aws:iam::{ACCOUNT}:group/admins", "is not an IAM role or user ARN"),
}


@pytest.mark.parametrize("value", list(BAD_PRINCIPALS.values()), ids=list(BAD_PRINCIPALS))
def test_an_invalid_principal_is_refused_naming_the_variable_before_any_aws_call(
    tmp_path: Path, value: tuple[str, str]
) -> None:
    """Exit 2, the message names STATE_KEY_PRINCIPALS and the value, and no AWS client is even made
    (the factory fails the test if called). Cannot prove that every ARN the check accepts names a
    role that exists: KMS finds that out when it reads the policy."""
    from infrakit.state_bucket import main

    arn, why = value
    env_file = tmp_path / "dev.toml"
    env_file.write_text(f'[state]\nbucket = "{BUCKET}"\nregion = "{REGION}"\n')

    def no_aws(region: str) -> Any:
        raise AssertionError("an AWS client was made before the principals were checked")

    err = io.StringIO()
    with redirect_stderr(err):
        code = main([str(env_file)], {VARIABLE: f"{DEPLOYER}, {arn}"}, clients=no_aws)
    assert code == 2, err.getvalue()
    assert f"create-state-bucket: {VARIABLE}: {arn!r} " in err.getvalue()
    assert why in err.getvalue()


def test_without_principals_a_missing_key_is_refused_before_anything_is_created(aws: Aws) -> None:
    """The variable unset and no key yet: exit 2 naming the variable, after only reads. Cannot
    prove anything about the reads' own permissions."""
    from infrakit.state_bucket import StateBucketError

    caller(aws)
    bucket_missing(aws)
    key_missing(aws)
    with pytest.raises(StateBucketError) as refused:
        aws.run()
    assert refused.value.code == 2
    assert str(refused.value).startswith(f"{VARIABLE} is not set: the state key {ALIAS} does not exist yet")
    assert f"{VARIABLE}=arn:aws:iam::{ACCOUNT}:role/deployer" in str(refused.value)


def test_a_principal_of_another_account_is_refused_before_anything_is_looked_at(aws: Aws) -> None:
    """The bucket and key live in the caller's account; a principal elsewhere is refused right
    after GetCallerIdentity. Cannot prove a cross-account setup is impossible, only unsupported."""
    from infrakit.state_bucket import StateBucketError

    caller(aws)
    with pytest.raises(StateBucketError) as refused:
        aws.run("arn:aws:iam::111122223333:role/deployer")
    assert refused.value.code == 2
    assert str(refused.value).startswith(
        f"{VARIABLE}: arn:aws:iam::111122223333:role/deployer is not in this account"
    )


@pytest.mark.parametrize(
    ("page", "who", "expected"),
    [
        (
            {"infrakit/dev.tfstate": "AES256"},
            f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice",
            f"you run as arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice: add your role to {VARIABLE}",
        ),
        (
            {"infrakit/dev.tfstate": "AES256", "infrakit/dev.tfstate.tflock": "AES256"},
            CALLER,
            f"s3://{BUCKET}/infrakit/dev.tfstate.tflock is a Terraform lock",
        ),
    ],
    ids=["caller-not-a-deployer", "terraform-lock-held"],
)
def test_a_migration_that_could_not_finish_is_refused_before_any_change(
    aws: Aws, page: dict[str, str], who: str, expected: str
) -> None:
    """Objects to re-encrypt, but the caller could not use the key (it is not among the principals),
    or a Terraform run holds the state lock: refused after the reads, before the key is created.
    Cannot prove that no Terraform run starts after the check; the copy's CopySourceIfMatch is
    what keeps a state written meanwhile."""
    from infrakit.state_bucket import StateBucketError

    caller(aws, who)
    bucket_found(aws)
    key_missing(aws)
    objects(aws, page)
    with pytest.raises(StateBucketError) as refused:
        aws.run(DEPLOYER)
    assert expected in str(refused.value)


def test_kms_refusing_the_key_policy_names_the_variable_and_no_bucket_is_created(aws: Aws) -> None:
    """KMS answers MalformedPolicyDocumentException (a principal that does not exist, or a caller
    that could not administer the key): the message says so, and the bucket is not created (the
    Stubber would fail CreateBucket). Cannot prove which of the two causes KMS meant."""
    from infrakit.state_bucket import StateBucketError

    caller(aws)
    bucket_missing(aws)
    key_missing(aws)
    aws.refuse(
        "kms",
        "create_key",
        "MalformedPolicyDocumentException",
        400,
        {"Description": ANY, "KeyUsage": ANY, "KeySpec": ANY, "Policy": ANY, "Tags": ANY},
    )
    with pytest.raises(StateBucketError) as refused:
        aws.run(DEPLOYER)
    assert f"an ARN in {VARIABLE} names a role or user that does not exist" in str(refused.value)


def test_a_key_scheduled_for_deletion_stops_the_run_with_the_command_that_cancels_it(aws: Aws) -> None:
    """The aliased key is pending deletion: nothing is changed, and the message gives the commands
    that bring it back. Cannot prove that the key is still within its waiting period."""
    from infrakit.state_bucket import StateBucketError

    caller(aws)
    bucket_found(aws)
    metadata = {"KeyId": KEY_ID, "Arn": KEY_ARN, "KeyState": "PendingDeletion", "KeyManager": "CUSTOMER"}
    aws.answer("kms", "describe_key", {"KeyMetadata": metadata}, {"KeyId": ALIAS})
    with pytest.raises(StateBucketError) as refused:
        aws.run()
    assert (
        f"`aws kms cancel-key-deletion --key-id {KEY_ARN}` then `aws kms enable-key --key-id {KEY_ARN}`"
        in str(refused.value)
    )


# ------------------------------------------------------------------------------ through the script

# Nothing may reach AWS from the script's processes, whatever they run: every endpoint and proxy
# points at a closed local port.
OFFLINE = {
    "AWS_ACCESS_KEY_ID": "test-only",
    "AWS_SECRET_ACCESS_KEY": "test-only",  # checkov:skip=CKV_SECRET_6: test value
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def script(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != VARIABLE}
    return subprocess.run(
        ["bash", "scripts/create-state-bucket.sh", "dev"],
        cwd=ROOT,
        env={**environ, **OFFLINE, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_script_refuses_an_invalid_principal_naming_the_variable() -> None:
    """scripts/create-state-bucket.sh passes the variable through and its exit status back. Cannot
    prove more than the refusal: the rest is tested above, at the SDK boundary."""
    result = script({VARIABLE: f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-4711"})
    assert result.returncode == 2, result.stderr
    assert f"create-state-bucket: {VARIABLE}: " in result.stderr
    assert f"name the role itself, arn:aws:iam::{ACCOUNT}:role/<path/>deployer" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_script_as_before_on_a_bucket_in_place_changes_nothing(tmp_path: Path) -> None:
    """`scripts/create-state-bucket.sh dev`, with no new argument or variable, on the shipped dev
    bucket already in place: exit 0 and "nothing changed". Its Python process answers each boto3
    call from tests/aws_sitecustomize.py's Stubbers, which fail any call not listed here. Cannot
    prove that the real AWS CLI-free run reaches AWS with the operator's credentials."""
    bucket = "acme-infrakit-terraform-state"  # environments/dev.toml
    alias = f"alias/terraform-state/{bucket}"
    s3 = {"Bucket": bucket, **OWNER}
    encryption = KEY_ENCRYPTION
    metadata = {"KeyId": KEY_ID, "Arn": KEY_ARN, "KeyState": "Enabled", "KeyManager": "CUSTOMER"}
    state = "infrakit/dev.tfstate"
    head = {"ETag": '"e"', "ContentLength": 10, "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY_ARN}
    answers = {
        "sts": [["get_caller_identity", {"Account": ACCOUNT, "Arn": CALLER}, {}]],
        "s3": [
            ["head_bucket", {"BucketRegion": REGION}, s3],
            ["list_objects_v2", {"Contents": [{"Key": state}]}, s3],
            ["head_object", head, {**s3, "Key": state}],
            ["get_bucket_versioning", {"Status": "Enabled"}, s3],
            ["get_public_access_block", {"PublicAccessBlockConfiguration": ALL_BLOCKED}, s3],
            ["get_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [encryption]}}, s3],
            ["get_bucket_policy", {"Policy": written_bucket_policy(bucket)}, s3],
        ],
        "kms": [
            ["describe_key", {"KeyMetadata": metadata}, {"KeyId": alias}],
            [
                "get_key_policy",
                {"Policy": written_key_policy(DEPLOYER)},
                {"KeyId": KEY_ID, "PolicyName": "default"},
            ],
            ["get_key_rotation_status", {"KeyRotationEnabled": True}, {"KeyId": KEY_ID}],
        ],
    }
    (tmp_path / "answers.json").write_text(json.dumps(answers))
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(ROOT / "tests" / "aws_sitecustomize.py", site / "sitecustomize.py")

    result = script(
        {
            "PYTHONPATH": f"{site}{os.pathsep}{ROOT}",
            "INFRAKIT_TEST_AWS_ANSWERS": str(tmp_path / "answers.json"),
        }
    )

    assert result.returncode == 0, result.stderr
    assert (
        f"create-state-bucket: key {alias} exists; its policy (kept, {VARIABLE} is not set) admits {DEPLOYER}"
        in result.stderr
    )
    assert f"create-state-bucket: state bucket {bucket} is ready; nothing changed" in result.stderr
