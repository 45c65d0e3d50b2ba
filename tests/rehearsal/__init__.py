"""A rehearsal of the local deploy without Docker (tests/test_local_rehearsal.py).

It proves that the strings the `local` stack hands its containers work: each healthcheck, each shell
command, each contract URL in the api and worker environment, after Terraform has evaluated them. It
runs them with the tools the images ship (busybox sh and wget, redis-cli, pg_isready, bash), against
the real servers the containers run (PostgreSQL 15 and Redis 7 from Debian, nginx from Debian) or the
Qdrant stand-in, in a private network where the service aliases resolve, then stops each server and
proves the healthcheck notices within its timeout.

What only a Docker engine can prove: the image contents and versions (Debian's redis-cli 7.0 and
pg_isready 15 stand in for the images' 7.4 and 16; busybox is Debian's build), the container users,
capabilities and read-only details (everything here runs as root), volume ownership, the entrypoints
of the postgres and qdrant images (here the server is started directly with the container's settings),
Docker's own DNS and port publishing, and the timing of `wait` during apply.
"""
