"""Local backends: every service as a hardened container on a private Docker network."""
