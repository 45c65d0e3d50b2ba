#!/usr/bin/env bash
# Create the S3 bucket that holds Terraform state for cloud environments. Run once per account.
#
#   scripts/create-state-bucket.sh ENV
#
# Reads the bucket and region from environments/ENV.toml ([state] table). Safe to re-run: an
# existing bucket is left as it is and only its protections are (re)applied. Needs the AWS CLI
# and credentials allowed to create buckets.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -eq 1 ] || { sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
env_name=$1
file="environments/$env_name.toml"
[ -f "$file" ] || { echo "create-state-bucket: $file does not exist" >&2; exit 2; }
command -v aws >/dev/null 2>&1 \
  || { echo "create-state-bucket: the AWS CLI is not installed (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)" >&2; exit 1; }

read -r bucket region < <(
  .venv/bin/python - "$file" <<'PY'
import sys, tomllib
state = tomllib.load(open(sys.argv[1], "rb")).get("state")
if not state:
    sys.exit(f"create-state-bucket: {sys.argv[1]} has no [state] table; it keeps state locally")
print(state["bucket"], state["region"])
PY
)

if aws s3api head-bucket --bucket "$bucket" 2>/dev/null; then
  echo "bucket $bucket exists; re-applying its protections" >&2
else
  echo "creating bucket $bucket in $region" >&2
  if [ "$region" = "us-east-1" ]; then
    aws s3api create-bucket --bucket "$bucket" --region "$region" >/dev/null
  else
    aws s3api create-bucket --bucket "$bucket" --region "$region" \
      --create-bucket-configuration "LocationConstraint=$region" >/dev/null
  fi
fi

# Versioning lets a bad state write be rolled back; state files hold secrets, so: encrypted,
# never public, TLS only.
aws s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
aws s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
  '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"},"BucketKeyEnabled":true}]}'
aws s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
aws s3api put-bucket-policy --bucket "$bucket" --policy "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"TlsOnly\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::$bucket\",\"arn:aws:s3:::$bucket/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}"
echo "state bucket $bucket is ready" >&2
