#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the module, runs the
# unit tests of the nginx-independent core (plainly, then under the
# sanitizers, leaks included), then the block tests in t/
# against a real nginx and a real redis-server (started by the harness on
# free loopback ports), in the normal mode, in the HUP mode (nginx is
# reloaded between blocks instead of restarted) and in the slots mode (the
# Redis is a one-node cluster: a command, transaction or script whose keys
# are not in one hash slot fails with CROSSSLOT).
#
#   MOBISPOT_TEST_VALGRIND=1   also run t/ with nginx under valgrind memcheck
#   MOBISPOT_TEST_MODES="normal hup slots valgrind"   choose the modes explicitly
#   TEST_FILES="t/001-foo.t"   run only these block tests
#   MOBISPOT_TEST_JOBS=N       test files run at once (default: 2; each file
#                              starts its own nginx and redis-server on free
#                              loopback ports)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash tools/deps.sh
bash tools/build.sh

echo "== unit tests (lua-free-tests/)"
make -s -C lua-free-tests check
echo "== unit tests under AddressSanitizer and UBSan (clang)"
make -s -C lua-free-tests clean
make -s -C lua-free-tests check SAN=1
make -s -C lua-free-tests clean

modes=${MOBISPOT_TEST_MODES:-normal hup slots}
[ "${MOBISPOT_TEST_VALGRIND:-0}" = 1 ] && modes="$modes valgrind"

# shellcheck disable=SC2086
files=${TEST_FILES:-$(ls t/*.t)}
jobs=${MOBISPOT_TEST_JOBS:-2}

for mode in $modes; do
    echo "== t/ in $mode mode"
    case $mode in
        normal)   env -u TEST_NGINX_USE_HUP -u TEST_NGINX_USE_VALGRIND prove -j"$jobs" -I t/lib $files ;;
        hup)      TEST_NGINX_USE_HUP=1 prove -j"$jobs" -I t/lib $files ;;
        valgrind) TEST_NGINX_USE_VALGRIND=1 prove -j"$jobs" -I t/lib $files ;;
        slots)    TEST_NGINX_REDIS_SLOTS=1 prove -j"$jobs" -I t/lib $files ;;
        *)        echo "unknown mode $mode" >&2; exit 2 ;;
    esac
done
