"""A rehearsal of the local deploy without Docker (tests/test_local_rehearsal.py).

It proves that the strings the `local` stack hands its containers work: each healthcheck, each shell
command, each contract URL in the api and worker environment, after Terraform has evaluated them. It
runs them with the tools the images ship (busybox sh and wget, GNU wget for the neo4j image,
redis-cli, pg_isready, bash), against the real servers the containers run (PostgreSQL 15 and Redis 7
from Debian, nginx from Debian) or the Qdrant and Neo4j stand-ins, in a private network where the
service aliases resolve, then stops each server and proves the healthcheck notices within its timeout.
The api and worker's Neo4j settings are tried with neo4j-driver (Node), the stack's with the Python
driver, both through neo4j:// routing.

What only a Docker engine can prove: the image contents and versions (Debian's redis-cli 7.0 and
pg_isready 15 stand in for the images' 7.4 and 16; busybox is Debian's build), the container users,
capabilities and read-only details (everything here runs as root), volume ownership, the entrypoints
of the postgres, qdrant and neo4j images (here the server is started directly with the container's
settings), Docker's own DNS and port publishing, and the timing of `wait` during apply. Neo4j itself
does not run: its stand-in models the behaviours tests/standins/neo4j.py cites.
"""
