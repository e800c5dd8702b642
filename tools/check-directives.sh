#!/usr/bin/env bash
# Every directive in a command table of the module is documented in
# docs/directives.md (a "### name" section), and nothing else is.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

code=$(grep -ho 'ngx_string("mobispot_[a-z_]*")' "$root"/ngx_mobispot_module/*/*.c \
       | sed 's/ngx_string("\(.*\)")/\1/' | grep -v '^mobispot_claim_$' \
       | grep -Ev '^mobispot_(sso_status|sub|sid|pass|roles|cache_status)$' | sort -u)
docs=$(grep -o '^### mobispot_[a-z_]*' "$root/docs/directives.md" | cut -c5- | sort -u)

missing=$(comm -23 <(echo "$code") <(echo "$docs"))
extra=$(comm -13 <(echo "$code") <(echo "$docs"))

[ -z "$missing" ] || { echo "not documented in docs/directives.md:"; echo "$missing"; }
[ -z "$extra" ] || { echo "documented but not in the code:"; echo "$extra"; }
[ -z "$missing$extra" ] && echo "all $(echo "$code" | wc -l) directives documented"
[ -z "$missing$extra" ]
