"""One stack class for every environment: the topology is written once."""
