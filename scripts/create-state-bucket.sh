#!/usr/bin/env bash
# Create the S3 bucket that holds Terraform state, and the KMS key that encrypts it. Once per account.
#
#   STATE_KEY_PRINCIPALS=arn:aws:iam::<account>:role/<deployer>[,...] scripts/create-state-bucket.sh ENV
#
# Reads the bucket and region from environments/ENV.toml ([state] table). STATE_KEY_PRINCIPALS
# names the IAM roles (or users) that run Terraform: only they may decrypt the state. Safe to
# re-run: it changes only what differs and says what; unset, an existing key keeps its policy.
# A bucket still on another encryption is moved to the key, its objects re-encrypted.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1-}" in -h | --help) usage; exit 0 ;; esac
[ $# -eq 1 ] || { usage >&2; exit 2; }
file="environments/$1.toml"
[ -f "$file" ] || { echo "create-state-bucket: $file does not exist" >&2; exit 2; }
[ -x .venv/bin/python ] || { echo "create-state-bucket: .venv is missing: run scripts/setup.sh first" >&2; exit 1; }

# The work is in infrakit/state_bucket.py (boto3), tested against stubbed AWS answers.
exec .venv/bin/python -m infrakit.state_bucket "$file"
