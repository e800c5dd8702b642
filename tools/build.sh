#!/usr/bin/env bash
# Builds build/ngx_http_mobispot_module.so against the nginx installed on this
# machine (Debian's nginx + nginx-dev): a copy of /usr/share/nginx/src is
# configured with the flags nginx itself was built with (conf_flags) plus
# --with-compat and --add-dynamic-module, then only the modules are made.
#
#   MOBISPOT_CC_OPT   extra compiler flags (e.g. "-fsanitize=address")
#   MOBISPOT_LD_OPT   extra linker flags
#   NGINX_SRC         nginx source tree (default /usr/share/nginx/src)
#   MOBISPOT_BUILD_DIR  where to build (default build/ in the repository)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src=${NGINX_SRC:-/usr/share/nginx/src}
out=${MOBISPOT_BUILD_DIR:-$root/build}
tree="$out/nginx-src"

if [ ! -f "$src/conf_flags" ]; then
    echo "build.sh: $src/conf_flags not found: install nginx-dev (bash tools/deps.sh)" >&2
    exit 1
fi

# shellcheck disable=SC1091
. "$src/conf_flags"

flags=("${NGX_CONF_FLAGS[@]}" --with-compat "--add-dynamic-module=$root")
[ -n "${MOBISPOT_CC_OPT:-}" ] && flags+=("--with-cc-opt=$MOBISPOT_CC_OPT")
[ -n "${MOBISPOT_LD_OPT:-}" ] && flags+=("--with-ld-opt=$MOBISPOT_LD_OPT")

mkdir -p "$out"
stamp="$out/configure.stamp"
# configure again when the flags, config or the list of sources change
# (config builds every .c and .h file of the module's folders)
sources=$(cd "$root" && ls ngx_mobispot_module/*/*.[ch] | sha256sum | cut -c1-16)
want=$(printf '%s\n' "${flags[@]}" | sha256sum | cut -c1-16)-$(sha256sum "$root/config" | cut -c1-16)-$sources

if [ ! -f "$tree/objs/Makefile" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$tree"
    cp -a "$src" "$tree"
    (cd "$tree" && ./configure "${flags[@]}") > "$out/configure.log" 2>&1 || {
        tail -n 30 "$out/configure.log" >&2
        echo "build.sh: configure failed, see $out/configure.log" >&2
        exit 1
    }
    echo "$want" > "$stamp"
fi

make -C "$tree" -f objs/Makefile modules -j"$(nproc)" > "$out/make.log" 2>&1 || {
    grep -E 'error|warning' "$out/make.log" | head -n 40 >&2 || true
    echo "build.sh: make failed, see $out/make.log" >&2
    exit 1
}

# a new file renamed into place: a running nginx keeps the old one mapped
cp "$tree/objs/ngx_http_mobispot_module.so" "$out/.ngx_http_mobispot_module.so.new"
mv -f "$out/.ngx_http_mobispot_module.so.new" "$out/ngx_http_mobispot_module.so"
echo "built $out/ngx_http_mobispot_module.so"
