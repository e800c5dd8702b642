#!/usr/bin/env bash
# Checks the README's first command: runs tools/demo.sh on spare loopback
# ports, walks its sign-in journey (tools/demo-journey.pl) and its API
# examples, and stops the demo.  .ci/run calls it.
#
#   bash tools/demo-check.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
export MOBISPOT_DEMO_PORT=${MOBISPOT_DEMO_PORT:-18080}
export MOBISPOT_DEMO_REDIS_PORT=${MOBISPOT_DEMO_REDIS_PORT:-16390}
export MOBISPOT_DEMO_TLS_PORT=${MOBISPOT_DEMO_TLS_PORT:-18443}
trap 'bash "$root/tools/demo.sh" stop >/dev/null' EXIT

bash "$root/tools/demo.sh" > "$root/build/demo-check.log"
api="http://127.0.0.1:$MOBISPOT_DEMO_PORT/api/v1"
health=$(curl -fs "$api/health")
spot=$(curl -fs "$api/spots/cw-namur")
[[ $health == *'"status":"ok"'* ]] || { echo "health: $health" >&2; exit 1; }
[[ $spot == *'"CoWallonia Namur"'* ]] || { echo "spot: $spot" >&2; exit 1; }
perl "$root/tools/demo-journey.pl" "$root/build/demo" \
    "$MOBISPOT_DEMO_TLS_PORT"
echo "demo-check: the demo runs, and its sign-in journey works"
