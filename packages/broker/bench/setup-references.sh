#!/bin/bash
# Builds the reference load generators the broker benchmark measures against (see --help).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: setup-references.sh [--cache DIR] [--force] [--check] [--help]

Builds the broker benchmark's reference tools into DIR
(default: ${SLUICE_BENCH_REFS:-$HOME/.cache/sluice-bench}):

  natsbench            NATS JetStream load generator on the NATS project's own Go client,
                       built by ../shared/bench/build-natsbench.sh (relative to the repo root)
                       from Debian's golang-go, golang-github-nats-io-go-nats-dev; nats-server
                       comes from Debian too.
  rdkafka_performance  librdkafka's own producer/consumer benchmark, compiled from Debian's
                       librdkafka source package against the installed librdkafka-dev (adds a
                       deb-src entry, /etc/apt/sources.list.d/sluice-deb-src.sources, when apt
                       has none).

Needs root and apt-get for the packages; a tool already built is left alone (idempotent).

  --cache DIR   build into DIR instead
  --force       rebuild tools that already exist
  --check       only report what is present; exit 1 when something is missing
  --help        this text

npm run bench -- broker runs this script itself when a tool is missing and it can.
EOF
}

cache=${SLUICE_BENCH_REFS:-$HOME/.cache/sluice-bench}
force=0
check=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cache) cache=${2:?--cache needs a directory}; shift 2 ;;
    --cache=*) cache=${1#--cache=}; shift ;;
    --force) force=1; shift ;;
    --check) check=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup-references: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
shared=${SLUICE_SHARED_DIR:-$(cd "$root/.." && pwd)/shared}

say() { echo "setup-references: $*"; }

nats_server() { command -v nats-server 2>/dev/null || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; } || true; }

if [ "$check" = 1 ]; then
  missing=0
  for tool in natsbench rdkafka_performance; do
    if [ -x "$cache/$tool" ]; then say "$tool: $cache/$tool"; else say "$tool: missing"; missing=1; fi
  done
  if [ -n "$(nats_server)" ]; then say "nats-server: $(nats_server)"; else say "nats-server: missing (apt-get install nats-server)"; missing=1; fi
  exit $missing
fi

need_root() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "cannot $1: needs root and apt-get (Debian). Install by hand: $2" >&2
    exit 3
  fi
}

# apt-get install, only for packages not installed yet.
apt_install() {
  local want=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || want+=("$p")
  done
  [ ${#want[@]} -eq 0 ] && return 0
  need_root "install ${want[*]}" "apt-get install -y ${want[*]}"
  say "apt-get install -y ${want[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want[@]}" >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want[@]}" >/dev/null; }
}

mkdir -p "$cache"

# --- natsbench -------------------------------------------------------------------------------
if [ "$force" = 1 ] || [ ! -x "$cache/natsbench" ] || [ -z "$(nats_server)" ]; then
  apt_install golang-go golang-github-nats-io-go-nats-dev nats-server
fi
if [ "$force" = 1 ] || [ ! -x "$cache/natsbench" ]; then
  if [ ! -f "$shared/bench/build-natsbench.sh" ]; then
    say "no $shared/bench/build-natsbench.sh (expected beside the repo; set SLUICE_SHARED_DIR)" >&2
    exit 1
  fi
  say "building natsbench (Go, nats.go from Debian) → $cache/natsbench"
  bash "$shared/bench/build-natsbench.sh" "$cache/natsbench" >/dev/null
else
  say "natsbench present: $cache/natsbench"
fi

# --- rdkafka_performance ---------------------------------------------------------------------
has_deb_src() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '/^Types:/ && /deb-src/ {found=1} END{exit !found}' "$f" && return 0
  done
  grep -qs '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list
}

# A deb-src stanza with the URIs, Suites, Components and Signed-By of the deb stanza that carries
# the release's main suite (so `apt-get source` picks the version the binary packages came from).
add_deb_src() {
  local codename out=/etc/apt/sources.list.d/sluice-deb-src.sources stanza=""
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || { say "cannot tell the Debian release (VERSION_CODENAME in /etc/os-release)" >&2; exit 1; }
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    stanza=$(awk -v suite="$codename" '
      function flush() {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ (" " suite " ") && uris != "" && !done) {
          print "Types: deb-src"; print "URIs: " uris; print "Suites: " suites
          print "Components: " comps; if (signed != "") print "Signed-By: " signed; done = 1
        }
        types = uris = suites = comps = signed = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^#/ { next }
      /^[ \t]/ { if (key == "Signed-By") signed = signed "\n" $0; next }
      { key = $1; sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val) }
      key == "Types" { types = val } key == "URIs" { uris = val } key == "Suites" { suites = val }
      key == "Components" { comps = val } key == "Signed-By" { signed = val }
      END { flush() }' "$f")
    [ -n "$stanza" ] && break
  done
  if [ -n "$stanza" ]; then
    say "adding a deb-src entry for $codename: $out"
    printf '# Added by sluice packages/broker/bench/setup-references.sh (apt-get source librdkafka)\n%s\n' "$stanza" >"$out"
    return
  fi
  # One-line format fallback (/etc/apt/sources.list).
  local line
  line=$(grep -hs "^[[:space:]]*deb[[:space:]].*[[:space:]]$codename[[:space:]]" /etc/apt/sources.list /etc/apt/sources.list.d/*.list | head -n1 || true)
  [ -n "$line" ] || { say "no apt source for $codename to derive a deb-src entry from" >&2; exit 1; }
  say "adding a deb-src entry for $codename: ${out%.sources}.list"
  echo "${line/deb/deb-src}" >"${out%.sources}.list"
}

if [ "$force" = 1 ] || [ ! -x "$cache/rdkafka_performance" ]; then
  apt_install librdkafka-dev gcc dpkg-dev
  if ! apt-cache showsrc librdkafka 2>/dev/null | grep -q '^Package:'; then
    need_root "fetch librdkafka's source" "a deb-src entry in /etc/apt/sources.list.d, apt-get update"
    has_deb_src || add_deb_src
    say "apt-get update (for the deb-src index)"
    apt-get update -q >/dev/null
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  chmod 755 "$work" # apt's _apt user downloads into it without the unsandboxed warning
  say "apt-get source librdkafka (installed librdkafka-dev: $(dpkg-query -W -f='${Version}' librdkafka-dev))"
  (cd "$work" && apt-get source -q librdkafka >/dev/null 2>"$work/source.log") ||
    { cat "$work/source.log" >&2; exit 1; }
  src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'librdkafka-*' | head -n1)
  [ -n "$src" ] || { say "apt-get source produced no librdkafka-* directory" >&2; exit 1; }
  say "configuring $(basename "$src") (config.h only)"
  (cd "$src" && ./configure --disable-ssl --disable-gssapi >"$work/configure.log" 2>&1) ||
    { tail -n 30 "$work/configure.log" >&2; exit 1; }
  say "compiling rdkafka_performance → $cache/rdkafka_performance"
  gcc -O2 -I"$src/src" -o "$cache/rdkafka_performance.tmp" "$src/examples/rdkafka_performance.c" -lrdkafka -lpthread -lm
  mv "$cache/rdkafka_performance.tmp" "$cache/rdkafka_performance"
else
  say "rdkafka_performance present: $cache/rdkafka_performance"
fi
say "done: $cache"
