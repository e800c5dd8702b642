#!/usr/bin/env bash
# Loads the demo catalogue (tools/seed/sites.json: 2 networks, 15 sites)
# through the admin API: one PUT per network, then one per site.
#
#   bash tools/seed/load.sh http://127.0.0.1:8080/api/v1/ [file]
#
#   MOBISPOT_ADMIN_TOKEN   sent as "Authorization: Bearer ..." when set
#                          (a token with the role of mobispot_admin role=...)
set -euo pipefail

base=${1:?usage: load.sh <api base url> [sites.json]}
file=${2:-$(dirname "$0")/sites.json}
base=${base%/}/

auth=()
[ -n "${MOBISPOT_ADMIN_TOKEN:-}" ] &&
    auth=(-H "Authorization: Bearer $MOBISPOT_ADMIN_TOKEN")

put() {
    local url=$1 body=$2 code
    code=$(curl -s -o /tmp/mobispot-load.$$ -w '%{http_code}' -X PUT \
           -H 'Content-Type: application/json' "${auth[@]}" \
           --data-binary "$body" "$url")
    if [ "$code" != 200 ] && [ "$code" != 201 ]; then
        echo "load: PUT $url: $code $(cat /tmp/mobispot-load.$$)" >&2
        rm -f /tmp/mobispot-load.$$
        return 1
    fi
    rm -f /tmp/mobispot-load.$$
}

n=0
while IFS= read -r net; do
    id=$(jq -r .id <<< "$net")
    put "${base}admin/networks/$id" "$(jq -c 'del(.id)' <<< "$net")"
    n=$((n + 1))
done < <(jq -c '.networks[]' "$file")

s=0
while IFS= read -r site; do
    id=$(jq -r .id <<< "$site")
    put "${base}admin/sites/$id" "$(jq -c 'del(.id)' <<< "$site")"
    s=$((s + 1))
done < <(jq -c '.sites[]' "$file")

echo "load: $n networks and $s sites loaded into $base"
