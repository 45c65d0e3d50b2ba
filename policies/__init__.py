"""Custom checkov policies for infrakit's synthesized stacks (IDs CKV_IK_n).

checkov loads every module here with `--external-checks-dir policies`. It skips a directory
without this file, so it must stay even though nothing imports the package.
"""
