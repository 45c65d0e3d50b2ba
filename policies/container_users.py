"""Whether a container's `user` provably keeps it off root: shared by Docker and ECS policies.

A container that runs as root turns any code execution in the service into root on the
container, one kernel bug away from the host. Docker and ECS both take `user` as
`name|uid[:group|gid]`; only the user part decides whether the process is root.
"""

from __future__ import annotations

from typing import Any

from terraform_json_values import is_expression


def root_user_problem(user: Any) -> str | None:
    """Why `user` does not prove a non-root process, or None when it does."""
    if user is None or (isinstance(user, str) and not user.strip()):
        return "user is not set, so the image's default user runs the process, and that is often root"
    if is_expression(user):
        return f"user {user!r} is a Terraform expression; set a literal non-root user so it can be checked"
    name = str(user).split(":", 1)[0].strip()
    if name == "root" or (name.isdigit() and int(name) == 0):
        return f"user {user!r} is root; set a non-root user or uid such as '10001'"
    return None
