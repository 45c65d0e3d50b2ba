"""The post-apply bootstrap: migrations, Qdrant collections and connection checks.

Plain Python, driven by `python -m infrakit` and scripts/setup.sh. It imports no cdktf code.
"""
