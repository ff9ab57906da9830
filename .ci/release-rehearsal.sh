#!/usr/bin/env bash
# Release rehearsal: the library installed the way Go users install it,
# through a module proxy, with no go.work and no replace directive.
#
# 1. Two releases, $PREV and $VERSION, follow RELEASING.md's steps on a copy
#    of the working tree: the modules in tag order (`release modules`:
#    go.work's modules minus those RELEASING.md marks "not tagged"), each
#    nested module's go.mod pinned to the root at that version without
#    replace (`release pin`) and tidied, then "tagged": published into a
#    file-based module proxy (`release publish`: .info, .mod and a zip made
#    by golang.org/x/mod/zip, the layout every proxy serves).
# 2. Fresh modules outside the repository, with GOWORK=off, GOFLAGS=-mod=mod,
#    GOPROXY=file://<proxy>,<the usual proxies> and GONOSUMDB for our
#    module path (nothing of it is in the public checksum database), `go
#    get` our modules at $VERSION for four services (.ci/rehearsal/*):
#    franz-go + Azure, sarama + AWS, kafka-go + Google Cloud, and
#    confluent-kafka-go from a client.properties; each is built, and the
#    franz-go + Azure service's test, on the test bench, runs offline.
#    Their module graphs are measured against the hand-rolled baselines by
#    .ci/consumers.sh's `measure` (limits and forbidden modules are
#    defined there), and the test bench's cost is measured on top of the
#    franz-go + Azure service.
# 3. Version skew: the root at $VERSION with azure at $PREV (a nested
#    module a release behind) must resolve and build; RELEASING.md promises
#    it works or fails with Go's own error, never silently.
#
# A module cache of its own (removed at the end) keeps the rehearsal's
# versions out of the user's cache; the user's cache serves as a local
# proxy for third-party modules, ahead of the usual ones.
#
# Usage: .ci/release-rehearsal.sh      (needs the module proxy for modules not cached)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PREV=${PREV:-v0.1.0-rc.1}
VERSION=${VERSION:-v0.1.0-rc.2}
MODULE=github.com/streamidentity/kafka-workload-identity

die() { echo "release-rehearsal: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
tool=$work/release
(cd "$root/e2e" && GOWORK=off go build -o "$tool" ./internal/cmd/release) || die "cannot build e2e/internal/cmd/release"

usual=$(go env GOPROXY)
usercache=$(go env GOMODCACHE)
export GOWORK=off GOTOOLCHAIN=local GOFLAGS="-mod=mod -modcacherw"
export GOMODCACHE=$work/modcache
export GOPROXY="file://$work/proxy,file://$usercache/cache/download,$usual"
export GONOSUMDB=$MODULE # our versions exist only in this proxy; GOPRIVATE would also bypass it
export GOSUMDB=${GOSUMDB:-$(go env GOSUMDB)}

mapfile -t modules < <("$tool" modules -root "$root") || die "release modules failed"
echo "modules in tag order (go.work minus RELEASING.md's untagged): ${modules[*]}"

# release V: RELEASING.md's steps 2-4 on a copy of the working tree (what
# git tracks plus new files it does not ignore).
release() {
  local v=$1 tree=$work/tree-$1
  mkdir -p "$tree"
  (cd "$root" && git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$tree"
  for m in "${modules[@]}"; do
    if [ "$m" != . ]; then
      (cd "$tree/$m" && "$tool" pin -root "$tree" -version "$v" . && go mod tidy >"$work/tidy.log" 2>&1) ||
        { cat "$work/tidy.log" >&2; die "$m: pinning to the root at $v and tidying failed"; }
      if grep -q '^replace\|=> \.' "$tree/$m/go.mod"; then die "$m/go.mod keeps a replace directive after pinning"; fi
    fi
    "$tool" publish -root "$tree" -version "$v" -proxy "$work/proxy" "$tree/$m" || die "publishing $m at $v failed"
  done
  echo "published ${#modules[@]} modules at $v"
}
release "$PREV"
release "$VERSION"
# What a proxy serves for the root, as a user's go command sees it.
(cd "$work" && go mod download -json "$MODULE@$VERSION" | grep '"Zip"' >/dev/null) || die "the root module at $VERSION does not download"

# consumer NAME MODULE...: a fresh module with .ci/rehearsal/NAME's code,
# `go get` of our MODULEs at $VERSION, tidy, build.
consumer() {
  local name=$1; shift
  local d=$work/consumers/$name
  mkdir -p "$d"
  cp "$root/.ci/rehearsal/$name"/*.go "$d/"
  (
    cd "$d"
    go mod init "example.com/$name" >/dev/null 2>&1
    local args=()
    for m in "$@"; do args+=("$MODULE${m:+/$m}@$VERSION"); done
    go get "${args[@]}" >"$d/get.log" 2>&1 || { cat "$d/get.log"; exit 1; }
    go mod tidy >"$d/tidy.log" 2>&1 || { cat "$d/tidy.log"; exit 1; }
    if grep -q '^replace' go.mod; then echo "go.mod has a replace directive"; exit 1; fi
    go build ./... || exit 1
    go vet ./... || exit 1
  ) || die "consumer $name: cannot resolve, build or vet with our modules at $VERSION"
  echo "consumer $name: resolved and built ($(cd "$d" && go list -m all | grep -c "^$MODULE") of our modules)"
}

consumer franz-azure oauthbearer/franzsasl azure
consumer sarama-aws oauthbearer/saramasasl aws
consumer kafkago-gcp oauthbearer/kafkagosasl gcp
if [ "$(go env CGO_ENABLED)" = 1 ]; then
  consumer confluent-props oauthbearer/confluentkafka ""
else
  echo "consumer confluent-props: skipped, needs cgo (CGO_ENABLED=0)" # .ci/run requires gcc
fi

# The franz-go + Azure service with the test bench in its tests, run offline.
d=$work/consumers/bench
mkdir -p "$d"
cp "$work/consumers/franz-azure/"{go.mod,go.sum,main.go} "$d/"
cp "$root/.ci/rehearsal/bench/"*_test.go "$d/"
(
  cd "$d"
  go get "$MODULE/oauthbearer/oauthbearertest@$VERSION" >get.log 2>&1 || { cat get.log; exit 1; }
  go mod tidy >tidy.log 2>&1 || { cat tidy.log; exit 1; }
  go test -count=1 -v ./... 2>&1 | tail -5
  exit "${PIPESTATUS[0]}"
) || die "the franz-go + Azure service's test on the test bench failed"

# Version skew: azure one release behind the root.
d=$work/consumers/skew
mkdir -p "$d"
cp "$root/.ci/rehearsal/franz-azure/main.go" "$d/"
(
  cd "$d"
  go mod init example.com/skew >/dev/null 2>&1
  go get "$MODULE/oauthbearer/franzsasl@$VERSION" "$MODULE/azure@$PREV" >get.log 2>&1 || { cat get.log; exit 1; }
  go mod tidy >tidy.log 2>&1 || { cat tidy.log; exit 1; }
  got=$(go list -m -f '{{.Path}}@{{.Version}}' "$MODULE" "$MODULE/azure" | tr '\n' ' ')
  case $got in *"$MODULE@$VERSION "*"$MODULE/azure@$PREV "*) ;; *) echo "unexpected selection: $got"; exit 1 ;; esac
  go build ./... || exit 1
  echo "version skew (root $VERSION, azure $PREV): resolved and built"
) || die "version skew: a nested module a release behind the root did not resolve or build"

# Module graphs against the hand-rolled baselines (.ci/consumers.sh).
# shellcheck source=consumers.sh
. "$root/.ci/consumers.sh"
OWN_SUM_LINES_PER_MODULE=0 # a proxy's go.sum has our modules' lines already
row() { # row LABEL FORBIDDEN OURS_DIR BASELINE_IMPORTS...
  local label=$1 forbidden=$2 o=$3; shift 3
  pin_to "$o" "$MODULE"
  mkmod "$label-baseline" 0 "$@" || die "baseline $label does not resolve"
  pins=()
  echo
  echo "== $label (rehearsal, our modules at $VERSION)"
  measure "$label" "$forbidden" "$o" "$work/$label-baseline"
}
row franz-azure "$FORBIDDEN_A" "$work/consumers/franz-azure" $BASELINE_A
row sarama-aws "$FORBIDDEN_B" "$work/consumers/sarama-aws" $BASELINE_B
MAX_EXTRA_MODULES=10 MAX_EXTRA_SUM=30 row kafkago-gcp "$FORBIDDEN_C" "$work/consumers/kafkago-gcp" $BASELINE_C
if [ -d "$work/consumers/confluent-props" ]; then
  MAX_EXTRA_MODULES=5 MAX_EXTRA_SUM=15 row confluent-props "$FORBIDDEN_D" "$work/consumers/confluent-props" $BASELINE_D
fi
echo
echo "== test bench added to the franz-go + Azure service (baseline: the service without it)"
MAX_EXTRA_MODULES=${MAX_BENCH_MODULES:-5} MAX_EXTRA_SUM=${MAX_BENCH_SUM:-15} \
  measure bench "$FORBIDDEN_BENCH_A" "$work/consumers/bench" "$work/consumers/franz-azure"

echo
[ "$fail" = 0 ] || die "a consumer's module graph exceeds its baseline or holds a forbidden module (above)"
echo "release-rehearsal: ok"
