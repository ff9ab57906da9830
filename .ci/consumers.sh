#!/usr/bin/env bash
# Acceptance 1 of the v1 shape (issue 14), measured the way a new user meets
# the library: a fresh module that imports one Kafka-client adapter and one
# cloud source, after `go mod tidy`, compared with the same service written
# by hand on the client library and the cloud SDK alone.
#
#   (a) franz-go adapter + azure source    vs  kgo + sasl/oauth + azidentity
#   (b) sarama adapter   + aws source      vs  sarama + aws-sdk-go-v2 sts
#   (c) franz-go adapter + spiffe source   vs  kgo + sasl/oauth + go-spiffe
#
# For each it prints `go list -m all` modules and go.sum lines for ours and
# for the baseline, lists modules a user of that pair must not get, and
# fails if one appears or if ours exceeds the baseline by more than
# MAX_EXTRA_MODULES modules or MAX_EXTRA_SUM go.sum lines.
#
# Every module of this repository (each go.mod that git tracks) is wired in
# with a replace directive, so the script works with one module or many.
# Our own modules have no go.sum lines under a directory replace; a user of
# a release would have two per module (h1 of the zip and of the go.mod), so
# they are added before comparing (OWN_SUM_LINES_PER_MODULE).
#
# Usage: .ci/consumers.sh [repo-root]     (needs the module proxy)
#
# Sourced (`. .ci/consumers.sh`), it only defines the settings and the
# function `measure` (one consumer module against its baseline), which
# .ci/release-rehearsal.sh calls on modules built from the rehearsal's
# module proxy instead of replace directives.

# --- what a user imports; adjust here when packages move -------------------
# (each may be overridden from the environment)
MODULE=${MODULE:-github.com/streamidentity/kafka-workload-identity}
FRANZ_ADAPTER=${FRANZ_ADAPTER:-$MODULE/oauthbearer/franzsasl}
AZURE_SOURCE=${AZURE_SOURCE:-$MODULE/azure}
SARAMA_ADAPTER=${SARAMA_ADAPTER:-$MODULE/oauthbearer/saramasasl}
AWS_SOURCE=${AWS_SOURCE:-$MODULE/aws}
SPIFFE_SOURCE=${SPIFFE_SOURCE:-$MODULE/spiffe}

MAX_EXTRA_MODULES=${MAX_EXTRA_MODULES:-5}
MAX_EXTRA_SUM=${MAX_EXTRA_SUM:-15}
OWN_SUM_LINES_PER_MODULE=${OWN_SUM_LINES_PER_MODULE:-2}

# Forbidden module path patterns (extended regular expressions, anchored).
# The spiffe module brings gRPC (through go-spiffe): only its users pay.
FORBIDDEN_SPIFFE='^github\.com/streamidentity/kafka-workload-identity/spiffe( |$)|^github\.com/spiffe/|^google\.golang\.org/grpc( |$)'
FORBIDDEN_COMMON='^github\.com/(IBM/sarama|confluentinc/confluent-kafka-go|segmentio/kafka-go|testcontainers/)|^github\.com/twmb/franz-go/pkg/kfake( |$)|'"$FORBIDDEN_SPIFFE"
FORBIDDEN_A="$FORBIDDEN_COMMON"'|^github\.com/aws/'
FORBIDDEN_B='^github\.com/(confluentinc/confluent-kafka-go|segmentio/kafka-go|testcontainers/|twmb/franz-go|Azure/|AzureAD/)|'"$FORBIDDEN_SPIFFE"
# (c) kafka-go + gcp and (d) confluent-kafka-go + clientprops, measured by
# .ci/release-rehearsal.sh; and the test bench added to (a)'s tests: it may
# bring its own needs (kfake), never another client or cloud.
FORBIDDEN_C='^github\.com/(IBM/sarama|confluentinc/confluent-kafka-go|testcontainers/|twmb/franz-go|Azure/|AzureAD/|aws/)'
FORBIDDEN_D='^github\.com/(IBM/sarama|segmentio/kafka-go|testcontainers/|twmb/franz-go|Azure/|AzureAD/|aws/)|^cloud\.google\.com/|^golang\.org/x/oauth2 '
FORBIDDEN_BENCH_A='^github\.com/(IBM/sarama|confluentinc/confluent-kafka-go|segmentio/kafka-go|testcontainers/|aws/)|^cloud\.google\.com/'

# The hand-rolled baselines: the same service on the client library and
# the cloud SDK alone.
BASELINE_A="github.com/twmb/franz-go/pkg/kgo github.com/twmb/franz-go/pkg/sasl/oauth github.com/Azure/azure-sdk-for-go/sdk/azidentity"
BASELINE_B="github.com/IBM/sarama github.com/aws/aws-sdk-go-v2/config github.com/aws/aws-sdk-go-v2/service/sts"
BASELINE_C="github.com/segmentio/kafka-go github.com/segmentio/kafka-go/sasl golang.org/x/oauth2/google"
BASELINE_D="github.com/confluentinc/confluent-kafka-go/v2/kafka"
# ----------------------------------------------------------------------------

fail=0

# measure LABEL FORBIDDEN OURS_DIR BASELINE_DIR: prints modules and go.sum
# lines of the two (tidy) modules and sets fail=1 if ours gets a forbidden
# module the baseline does not have, or exceeds the limits.
measure() {
  local label=$1 forbidden=$2 o=$3 b=$4
  local om bm os bs own
  om=$(cd "$o" && go list -m all | wc -l)
  bm=$(cd "$b" && go list -m all | wc -l)
  own=$(cd "$o" && go list -m all | grep -c "^$MODULE\( \|/\)" || true)
  os=$(( $(wc -l <"$o/go.sum") + own * OWN_SUM_LINES_PER_MODULE ))
  bs=$(wc -l <"$b/go.sum")
  printf '   %-10s %8s %8s %8s\n' "" ours baseline delta
  printf '   %-10s %8d %8d %+8d   (limit +%d)\n' "modules" "$om" "$bm" $((om - bm)) "$MAX_EXTRA_MODULES"
  printf '   %-10s %8d %8d %+8d   (limit +%d; ours includes %d x %d lines for our %d module(s))\n' \
    "go.sum" "$os" "$bs" $((os - bs)) "$MAX_EXTRA_SUM" "$own" "$OWN_SUM_LINES_PER_MODULE" "$own"
  local bad
  # forbidden, unless the baseline has it too (confluent-kafka-go's own
  # go.mod requires cloud SDKs for its examples and tests)
  bad=$(comm -23 <(cd "$o" && go list -m all | grep -E "$forbidden" | awk '{print $1}' | sort) \
    <(cd "$b" && go list -m all | awk '{print $1}' | sort))
  if [ -n "$bad" ]; then
    echo "   FORBIDDEN modules in ours:"
    sed 's/^/     /' <<<"$bad"
    fail=1
  else
    echo "   forbidden modules: none"
  fi
  if [ $((om - bm)) -gt "$MAX_EXTRA_MODULES" ]; then echo "   FAIL: $label: $((om - bm)) more modules than the baseline"; fail=1; fi
  if [ $((os - bs)) -gt "$MAX_EXTRA_SUM" ]; then echo "   FAIL: $label: $((os - bs)) more go.sum lines than the baseline"; fail=1; fi
  if [ -n "${CONSUMERS_VERBOSE:-}" ]; then
    echo "   modules only in ours:"
    comm -23 <(cd "$o" && go list -m all | awk 'NR>1{print $1}' | sort) <(cd "$b" && go list -m all | awk 'NR>1{print $1}' | sort) | sed 's/^/     /'
  fi
}

# mkmod NAME WITH_REPLACES IMPORT... : $work/NAME, a tidy module whose main
# imports IMPORT... (WITH_REPLACES=1: every module of the repository wired
# in by a replace directive)
mkmod() {
  local name=$1 withrep=$2; shift 2
  local d=$work/$name
  mkdir -p "$d"
  {
    echo "package main"
    echo
    echo "import ("
    for p in "$@"; do echo "	_ \"$p\""; done
    echo ")"
    echo
    echo "func main() {}"
  } >"$d/main.go"
  (cd "$d" && go mod init example.com/"$name" >/dev/null 2>&1)
  if [ "$withrep" = 1 ]; then (cd "$d" && go mod edit "${replaces[@]}"); fi
  if [ ${#pins[@]} -gt 0 ]; then (cd "$d" && go mod edit "${pins[@]}"); fi
  (cd "$d" && go mod tidy >"$d/tidy.log" 2>&1) || { echo "go mod tidy failed in $name:"; cat "$d/tidy.log"; return 1; }
}

# pins: -require edits mkmod applies before tidying; empty unless set by
# pin_to for a baseline.
pins=()

# pin_to DIR OWN_PREFIX: pins the next mkmod to the versions the tidy
# module DIR resolved (except modules under OWN_PREFIX, ours), so that a
# baseline is compared with ours at the same versions and never chases a
# release newer than ours that the module proxy may not serve yet. (Tidy
# drops what the baseline does not import.)
pin_to() {
  mapfile -t pins < <(cd "$1" && go list -m all | awk -v own="$2" 'NR>1 && index($1, own) != 1 {print "-require=" $1 "@" $2}')
}

# Sourced: definitions only.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

set -euo pipefail
root=$(cd "${1:-$(git rev-parse --show-toplevel)}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOWORK=off GOFLAGS=-mod=mod

# replace directives for every module of the repository
replaces=()
while IFS= read -r gomod; do
  dir=$root/$(dirname "$gomod")
  path=$(cd "$dir" && go mod edit -print | awk '$1 == "module" {print $2}')
  [ -n "$path" ] && replaces+=("-replace=$path=$dir")
done < <(git -C "$root" ls-files '*go.mod')
[ ${#replaces[@]} -gt 0 ] || { echo "consumers.sh: no go.mod tracked under $root" >&2; exit 2; }
echo "repository modules: ${#replaces[@]}"
own_prefix=$(cd "$root" && go mod edit -print | awk '$1 == "module" {print $2}')

# check LABEL FORBIDDEN OURS_IMPORTS -- BASELINE_IMPORTS
check() {
  local label=$1 forbidden=$2; shift 2
  local ours=() base=()
  while [ "$1" != -- ]; do ours+=("$1"); shift; done; shift
  base=("$@")
  mkmod "$label-ours" 1 "${ours[@]}"
  pin_to "$work/$label-ours" "$own_prefix"
  mkmod "$label-baseline" 0 "${base[@]}"
  pins=()
  echo
  echo "== $label"
  echo "   ours imports:     ${ours[*]}"
  echo "   baseline imports: ${base[*]}"
  measure "$label" "$forbidden" "$work/$label-ours" "$work/$label-baseline"
}

check franz-azure "$FORBIDDEN_A" \
  github.com/twmb/franz-go/pkg/kgo "$FRANZ_ADAPTER" "$AZURE_SOURCE" -- $BASELINE_A

check sarama-aws "$FORBIDDEN_B" \
  github.com/IBM/sarama "$SARAMA_ADAPTER" "$AWS_SOURCE" -- $BASELINE_B

# (c) franz-go adapter + spiffe source  vs  kgo + sasl/oauth + go-spiffe's workloadapi
FORBIDDEN_E='^github\.com/(IBM/sarama|confluentinc/confluent-kafka-go|segmentio/kafka-go|testcontainers/|Azure/|AzureAD/|aws/)|^github\.com/twmb/franz-go/pkg/kfake( |$)'
check franz-spiffe "$FORBIDDEN_E" \
  github.com/twmb/franz-go/pkg/kgo "$FRANZ_ADAPTER" "$SPIFFE_SOURCE" -- \
  github.com/twmb/franz-go/pkg/kgo github.com/twmb/franz-go/pkg/sasl/oauth github.com/spiffe/go-spiffe/v2/workloadapi

echo
if [ "$fail" != 0 ]; then
  echo "consumers.sh: FAIL (a user of one client and one cloud pays for others; see above)"
  exit 1
fi
echo "consumers.sh: ok"
