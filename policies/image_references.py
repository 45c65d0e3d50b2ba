"""Whether a Docker image reference is pinned: shared by the docker_container and docker_image policies.

An unpinned reference (no tag, or `latest`) pulls whatever was pushed last, so two applies of
the same commit can run different code, and a rollback does not roll anything back.
"""

from __future__ import annotations

import re

_SHA256_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def image_pin_problem(reference: str) -> str | None:
    """Why `reference` is not pinned to a version tag or a digest, or None when it is.

    A reference is `[registry[:port]/]path[:tag][@digest]`. The tag is looked for after the last
    `/` so that a registry port (`registry:5000/app`) is not mistaken for one.
    """
    name, _, digest = reference.partition("@")
    if digest:
        if _SHA256_DIGEST.fullmatch(digest):
            return None
        return f"image {reference!r} has a digest that is not `sha256:` and 64 hex digits"
    last_component = name.rsplit("/", 1)[-1]
    tag = last_component.partition(":")[2]
    if not tag:
        return f"image {reference!r} has no tag, so Docker pulls `latest`; pin a version tag or a digest"
    if tag == "latest":
        return f"image {reference!r} uses the moving `latest` tag; pin a version tag or a digest"
    return None
