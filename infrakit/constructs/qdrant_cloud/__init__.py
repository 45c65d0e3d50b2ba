"""Qdrant Cloud backends: a managed vector-store cluster and its scoped database API keys."""
