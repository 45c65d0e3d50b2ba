"""Cloud backends on AWS: the network, encryption key, ElastiCache Redis and ECS Fargate services.

Each module imports only the AWS submodules it uses; importing the provider package as a
whole costs 11-15 s (see ../shared/reference.md)."""
