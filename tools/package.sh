#!/usr/bin/env bash
# Builds the Debian package libnginx-mod-http-mobispot from this checkout
# (debian/: debhelper with dh-sequence-nginx, against the system's nginx),
# checks it with lintian, and leaves it in build/deb/.
#
#   tools/package.sh            build + lintian
#   tools/package.sh install    also apt-get install it on this machine's
#                               nginx and run tools/package-smoke.sh (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

# what building a package needs, besides the module's own build deps
bash tools/deps.sh run
need=()
for p in debhelper dpkg-dev fakeroot lintian; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${need[@]}"
fi

# dpkg-buildpackage writes into the parent directory: build from a copy of
# the tracked files, so that nothing lands beside the checkout
work=$(mktemp -d /tmp/mobispot-pkg.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
git ls-files -z | xargs -0 cp --parents -t "$work/src"

(cd "$work/src" && dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1 || {
    tail -40 "$work/build.log" >&2
    echo "package: dpkg-buildpackage failed" >&2
    exit 1
}

mkdir -p build/deb
rm -f build/deb/*.deb build/deb/*.changes build/deb/*.buildinfo
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo build/deb/
deb=$(ls build/deb/libnginx-mod-http-mobispot_*.deb)

# lintian: no error and no warning (informational tags are overridden or
# listed in docs/operations.md)
lintian --fail-on error,warning build/deb/*.changes 2>&1 \
    | grep -v 'running with root privileges' || true
lintian --fail-on error,warning build/deb/*.changes >/dev/null 2>&1 || {
    echo "package: lintian found errors or warnings" >&2
    exit 1
}
echo "package: $deb (lintian clean)"

[ "${1:-}" = install ] || exit 0

$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "$root/$deb"
bash tools/package-smoke.sh
