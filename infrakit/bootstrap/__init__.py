"""The post-apply bootstrap: migrations, Qdrant collections and connection checks.

Plain Python, driven by the `infrakit` command and scripts/setup.sh. It imports no cdktf code.
"""
