"""The images stack of a cloud environment, `<env>-images`: the ECR repositories its services pull.

It is deployed before the environment, so that images can be pushed before any service starts:
created in the same apply as the services, the repositories were empty when the first tasks
started, which failed with CannotPullContainer and left the circuit breaker nothing to roll back
to. The environment finds each repository by name, so its plan fails early, naming it, when the
images stack is missing.
"""

from __future__ import annotations

from constructs import Construct

from infrakit.cdk import TerraformOutput, TerraformStack
from infrakit.config import Environment
from infrakit.constructs.protection import prevent_destroy
from infrakit.stacks.names import image_services, images_stack_name, repository_name
from infrakit.stacks.provider_sources import qualify_provider_sources
from infrakit.stacks.state import configure_state


class ImagesStack(TerraformStack):
    def __init__(self, scope: Construct, environment: Environment):
        super().__init__(scope, images_stack_name(environment.name))
        from infrakit.cdk import AwsProvider, AwsProviderDefaultTags
        from infrakit.constructs.aws.encryption_key import EnvironmentKey
        from infrakit.constructs.aws.image_repository import ImageRepository

        configure_state(self, environment, stack_name=images_stack_name(environment.name))
        settings = environment.config.aws
        assert settings is not None, "validated: Fargate services require [aws]"
        tags = {
            "Project": environment.config.project,
            "Environment": environment.name,
            "ManagedBy": "infrakit",
        }
        AwsProvider(self, "aws", region=settings.region, default_tags=[AwsProviderDefaultTags(tags=tags)])
        prefix = f"{environment.config.project}-{environment.name}"
        # Its own key: the environment's key is created later, in the environment's stack. It
        # encrypts the repositories and nothing else, so its policy grants no other service.
        key = EnvironmentKey(
            self,
            "key",
            name=f"{prefix}-images",
            deletion_window_days=settings.kms_deletion_window_days,
            images_only=True,
        )
        prevent_destroy(key.key, when=settings.deletion_protection)
        for service in image_services(environment):
            config = getattr(environment.config, service)
            repository = ImageRepository(
                self,
                service,
                name=repository_name(environment, service),
                key=key,
                protect=settings.deletion_protection,
                deployed_tag=config.image_tag,
                keep_tagged=config.keep_tagged_images,
            )
            prevent_destroy(repository.repository, when=settings.deletion_protection)
            TerraformOutput(self, f"{service}_image_repository", value=repository.url)
        qualify_provider_sources(self)
