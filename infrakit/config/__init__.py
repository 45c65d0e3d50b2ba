"""Environment configuration: typed models and the loader that validates environment files."""

from infrakit.config.loader import ConfigError, Environment, Problem, load_environments
from infrakit.config.models import EnvironmentConfig
from infrakit.config.types import SecretRef

__all__ = [
    "ConfigError",
    "Environment",
    "EnvironmentConfig",
    "Problem",
    "SecretRef",
    "load_environments",
]
