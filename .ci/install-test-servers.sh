#!/usr/bin/env bash
# Install what the integration tests start, from Debian/Ubuntu packages: PostgreSQL and Redis servers,
# and for the local rehearsal (tests/test_local_rehearsal.py) nginx, busybox (the images' sh and wget)
# and iproute2 (the rehearsal's private network). Does nothing when all are present. Needs root.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v busybox >/dev/null 2>&1 || missing+=(busybox)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || missing+=(iproute2)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]}" >&2
apt-get update -qq
# policy-rc.d or no init system: package scripts may not start services; the tests start their own.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
