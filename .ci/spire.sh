#!/usr/bin/env bash
# spire.sh [DIR]: build a real SPIRE server and agent (spire-server,
# spire-agent) from the Go module proxy into DIR/bin, for the end-to-end
# test of the spiffe module (e2e/spire_test.go, build tag e2e).
#
# DIR defaults to ${KWI_SPIRE_HOME:-$HOME/.cache/kafka-workload-identity/spire-$SPIRE_VERSION}.
# The version is pinned (KWI_SPIRE_VERSION overrides it): the test asserts
# what this SPIRE issues (claims, bundle format, CLI flags).
#
# Idempotent: DIR/bin/.complete records the version of a finished build and
# a second run with the same version does nothing. A cold build downloads
# SPIRE's dependencies and compiles about 300 MB of binaries: 10-15 minutes
# on two cores. spire-server needs cgo and a C compiler (sqlite).
#
# Why not `go install github.com/spiffe/spire/cmd/spire-server@v1.13.3`:
# that form also asks the proxy for the module's version list (to print a
# deprecation notice) and fails outright when a proxy serves the version
# but not the list. Requiring the pinned version from a throwaway module
# and installing from there builds the same packages with the same
# dependency versions (SPIRE's go.mod has no replace or exclude) and needs
# only the pinned version.
set -euo pipefail

SPIRE_VERSION="${KWI_SPIRE_VERSION:-v1.13.3}"
DIR="${1:-${KWI_SPIRE_HOME:-$HOME/.cache/kafka-workload-identity/spire-$SPIRE_VERSION}}"

CACHE_NAME=spire.sh
CACHE_DIR="$DIR"
CACHE_OUT="$DIR/bin"
CACHE_STAMP="spire $SPIRE_VERSION"
CACHE_EXEC="spire-server spire-agent"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BIN="$CACHE_OUT"

cache_begin build

command -v go >/dev/null 2>&1 || die "go not found on PATH; install Go 1.25 or newer"
command -v gcc >/dev/null 2>&1 || die "gcc not found on PATH; spire-server needs cgo for sqlite (apt-get install gcc libc6-dev)"

mkdir -p "$WORK/mod" "$WORK/bin"

echo "spire.sh: building SPIRE $SPIRE_VERSION (spire-server, spire-agent) into $BIN; a cold build takes 10-15 minutes" >&2
start=$(date +%s)
(
  cd "$WORK/mod"
  export GOWORK=off GOFLAGS= CGO_ENABLED=1 GOBIN="$WORK/bin"
  go mod init local.kafka-workload-identity/spire-build >/dev/null 2>&1
  go get "github.com/spiffe/spire/cmd/spire-server@$SPIRE_VERSION" "github.com/spiffe/spire/cmd/spire-agent@$SPIRE_VERSION"
  go install github.com/spiffe/spire/cmd/spire-server github.com/spiffe/spire/cmd/spire-agent
) >"$WORK/build.log" 2>&1 || {
  tail -n 40 "$WORK/build.log" >&2
  die "could not build SPIRE $SPIRE_VERSION (see the log above); check that the Go module proxy serves github.com/spiffe/spire@$SPIRE_VERSION and that gcc works"
}
# A build from the module proxy reports "<version>-dev-unk" (SPIRE stamps
# release builds through its Makefile's ldflags).
for b in spire-server spire-agent; do
  "$WORK/bin/$b" --version 2>&1 | grep "^${SPIRE_VERSION#v}" >/dev/null ||
    die "the built $b does not run or is not $SPIRE_VERSION: $("$WORK/bin/$b" --version 2>&1 | sed -n 1p)"
done

cache_install "$WORK/bin"
echo "spire.sh: SPIRE $SPIRE_VERSION in $BIN ($(( $(date +%s) - start ))s)" >&2
