#!/usr/bin/env bash
# The servers and tools the test suite starts, from Debian/Ubuntu packages: PostgreSQL and Redis for
# the integration tests; nginx, busybox (the images' sh and wget), GNU wget (the neo4j image's) and
# iproute2 (a private network) for the local rehearsal (tests/test_local_rehearsal.py). scripts/test.sh
# runs this first.
#
# Installs what is missing, as root or through passwordless sudo, and says what it installs. Without
# either it installs nothing and names the packages: the tests that need them are then skipped, each
# with one line saying what to install. Does nothing when all are present. Safe to re-run.
set -euo pipefail

# Where to look: PATH and the sbin directories a user's PATH may lack. The two variables exist for
# this script's own tests (tests/test_test_command.py).
search=${INFRAKIT_TEST_SERVERS_PATH:-$PATH:/usr/local/sbin:/usr/sbin:/sbin}
postgresql_lib=${INFRAKIT_TEST_SERVERS_POSTGRESQL:-/usr/lib/postgresql}
has() { PATH=$search command -v "$1" >/dev/null 2>&1; }

missing=()
ls "$postgresql_lib"/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
has redis-server || missing+=(redis-server)
has nginx || missing+=(nginx)
has busybox || missing+=(busybox)
has wget || missing+=(wget)
has ip || missing+=(iproute2)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "test servers: not installing ${missing[*]} (needs root or passwordless sudo); the tests that need them will be skipped. To run them: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test servers: no apt-get here; install ${missing[*]} with this system's package manager, or the tests that need them will be skipped" >&2
  exit 0
fi

echo "test servers: installing ${missing[*]} from Debian packages (once; about a minute)" >&2
"${as_root[@]}" apt-get update -qq
# policy-rc.d or no init system: package scripts may not start services; the tests start their own.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "test servers: installed ${missing[*]}" >&2
