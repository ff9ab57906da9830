# lib.sh: sourced by kafka-jars.sh and spire.sh, which each fetch or build a
# pinned version of something into a cache directory. The shared shape:
# a marker file records the version of a finished copy (a second run with
# the same version does nothing), parallel callers wait on a lock and then
# find the copy complete, the work happens in a temporary directory next
# to the cache, and the finished copy is swapped in whole so that an
# interrupted run never leaves one that looks complete.
#
# The sourcing script sets, before calling anything here:
#   CACHE_NAME   its name, for messages ("spire.sh")
#   CACHE_DIR    the cache directory
#   CACHE_OUT    the finished copy inside it (CACHE_DIR/lib, CACHE_DIR/bin)
#   CACHE_STAMP  the version line written to CACHE_OUT/.complete
#   CACHE_EXEC   optional: files in CACHE_OUT that must be executable
# and runs under `set -euo pipefail`.

die() { echo "$CACHE_NAME: $*" >&2; exit 1; }

# cache_complete: whether CACHE_OUT holds a finished copy of CACHE_STAMP.
cache_complete() {
  local f
  [ -f "$CACHE_OUT/.complete" ] && [ "$(cat "$CACHE_OUT/.complete")" = "$CACHE_STAMP" ] || return 1
  for f in ${CACHE_EXEC:-}; do
    [ -x "$CACHE_OUT/$f" ] || return 1
  done
}

# cache_begin PREFIX: exits 0 when the copy is complete (before or after
# waiting for another caller's lock); otherwise makes the work directory
# CACHE_DIR/.PREFIX.XXXXXX, removed on exit, and sets WORK to it.
cache_begin() {
  cache_complete && exit 0
  mkdir -p "$CACHE_DIR"
  # Parallel test binaries or CI steps may all call the script: let one
  # work while the others wait, then find the copy complete.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE_DIR/.lock"
    flock 9
    cache_complete && exit 0
  fi
  WORK="$(mktemp -d "$CACHE_DIR/.$1.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
}

# cache_install SRC: marks SRC finished and swaps it in as CACHE_OUT.
cache_install() {
  echo "$CACHE_STAMP" >"$1/.complete"
  rm -rf "$CACHE_OUT"
  mv "$1" "$CACHE_OUT"
}
