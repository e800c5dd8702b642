#!/usr/bin/env bash
# Installs the Debian packages the project needs that are missing: building
# the module against the system nginx, running it with Redis, and testing and
# benchmarking it.  Idempotent; runs apt-get as root, or through sudo.
#
#   tools/deps.sh          everything (build, run, test, bench)
#   tools/deps.sh run      only what building and running needs
set -euo pipefail

run_pkgs=(
    nginx nginx-dev               # the nginx the module is built against
    gcc make                      # the compiler nginx's build uses
    libhiredis-dev libyajl-dev libjwt-dev libcrypt-dev
    redis-server redis-tools
    curl ca-certificates openssl
    jq                            # tools/seed/load.sh
)
test_pkgs=(
    libtest-base-perl             # the harness in t/ reads Test::Base blocks
    valgrind clang                # memcheck mode, sanitizers, libFuzzer
    wrk                           # bench/
    python3 python3-cryptography  # t/lib/mobispot_token.py signs test tokens
    python3-prometheus-client     # t/018: the official parser reads a scrape
    python3-authlib python3-requests  # t/533: an OIDC client of the issuer
    prometheus                    # promtool checks the scrape and the alerts
    chromium chromium-driver      # t/532: the sign-in journey in headless
    python3-selenium              # Chromium, driven through selenium;
    libnss3-tools                 # certutil: the test CA in its NSS db
)

pkgs=("${run_pkgs[@]}")
[ "${1:-all}" = run ] || pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all packages present"
    exit 0
fi

sudo=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: run as root or install sudo" >&2; exit 1; }
    sudo=sudo
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Debian starts the packaged services where it can; the project runs its
# own instances on other ports and needs none of them.
