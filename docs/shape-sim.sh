#!/usr/bin/env bash
# Throwaway measurement for the issue-14 plan (docs/shape-plan.md): builds,
# in a temporary git repository, stub modules laid out as the plan proposes,
# each stub importing exactly the third-party packages the real package (and
# its tests) would import after the move, then runs .ci/consumers.sh on it.
# VARIANT=bench-in-azure-tests makes the azure tests import the public test
# bench module (whose broker needs kfake) instead of root internal/emu, to
# show what graph pruning keeps out and what it does not.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
M=github.com/streamidentity/kafka-workload-identity
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cd "$d" && git init -q .

# mod DIR PATH REQ_MODULE_DIRS...: a go.mod for DIR requiring (and replacing) our modules in REQ
mod() {
  local dir=$1 path=$2; shift 2
  mkdir -p "$dir"
  printf 'module %s\n\ngo 1.26.0\n' "$path" >"$dir/go.mod"
  for r in "$@"; do
    local rp=$M; [ "$r" = . ] || rp=$M/$r
    local rel; rel=$(python3 -c "import os,sys;print(os.path.relpath(sys.argv[1],sys.argv[2]))" "$d/$r" "$d/$dir")
    (cd "$dir" && go mod edit -require="$rp@v0.0.0-00010101000000-000000000000" -replace="$rp=$rel")
  done
}
# pkg DIR NAME FILE IMPORTS...: a Go file importing IMPORTS (blank)
pkg() {
  local dir=$1 name=$2 file=$3; shift 3
  mkdir -p "$dir"
  { echo "package $name"; echo "import ("; for i in "$@"; do echo "	_ \"$i\""; done; echo ")"; } >"$dir/$file"
}

mod . "$M"
pkg oauthbearer oauthbearer a.go
pkg oauthbearer oauthbearer a_test.go github.com/stretchr/testify/require
pkg internal/emu emu a.go github.com/golang-jwt/jwt/v5
pkg confluent confluent a.go "$M/oauthbearer" github.com/golang-jwt/jwt/v5
pkg confluent confluent a_test.go "$M/internal/emu" github.com/stretchr/testify/require
pkg oauthclient oauthclient a.go "$M/oauthbearer"
pkg schemaregistry schemaregistry a.go "$M/oauthbearer"
pkg schemaregistry schemaregistry a_test.go "$M/internal/emu" github.com/stretchr/testify/require

mod azure "$M/azure" .
pkg azure azure a.go "$M/oauthbearer" github.com/Azure/azure-sdk-for-go/sdk/azcore github.com/Azure/azure-sdk-for-go/sdk/azcore/policy github.com/Azure/azure-sdk-for-go/sdk/azidentity github.com/golang-jwt/jwt/v5
mod aws "$M/aws" .
pkg aws aws a.go "$M/oauthbearer" github.com/aws/aws-sdk-go-v2/aws github.com/aws/aws-sdk-go-v2/config github.com/aws/aws-sdk-go-v2/service/sts github.com/aws/smithy-go github.com/aws/aws-msk-iam-sasl-signer-go/signer
pkg aws/internal/stsemu stsemu a.go github.com/aws/aws-sdk-go-v2/aws/signer/v4
pkg aws aws a_test.go "$M/aws/internal/stsemu" "$M/internal/emu" github.com/stretchr/testify/require github.com/aws/aws-sdk-go-v2/credentials
mod oauthbearer/franzsasl "$M/oauthbearer/franzsasl" .
pkg oauthbearer/franzsasl franzsasl a.go "$M/oauthbearer" github.com/twmb/franz-go/pkg/sasl
pkg oauthbearer/franzsasl franzsasl a_test.go github.com/stretchr/testify/require ${GOLEAK:+go.uber.org/goleak}
mod oauthbearer/saramasasl "$M/oauthbearer/saramasasl" .
pkg oauthbearer/saramasasl saramasasl a.go "$M/oauthbearer" github.com/IBM/sarama
pkg oauthbearer/saramasasl saramasasl a_test.go github.com/stretchr/testify/require ${GOLEAK:+go.uber.org/goleak}
mod oauthbearer/oauthbearertest "$M/oauthbearer/oauthbearertest" .
pkg oauthbearer/oauthbearertest oauthbearertest a.go "$M/oauthbearer" "$M/internal/emu"
pkg oauthbearer/oauthbearertest/kafkabroker kafkabroker a.go github.com/twmb/franz-go/pkg/kfake github.com/twmb/franz-go/pkg/kmsg
pkg oauthbearer/oauthbearertest/awssts awssts a.go "$M/aws/internal/stsemu"
if [ "${VARIANT:-}" = bench-in-azure-tests ]; then
  (cd azure && go mod edit -require="$M/oauthbearer/oauthbearertest@v0.0.0-00010101000000-000000000000" -replace="$M/oauthbearer/oauthbearertest=../oauthbearer/oauthbearertest")
  pkg azure azure a_test.go "$M/oauthbearer/oauthbearertest" github.com/stretchr/testify/require
else
  pkg azure azure a_test.go "$M/internal/emu" github.com/stretchr/testify/require
fi
(cd oauthbearer/oauthbearertest && go mod edit -require="$M/aws@v0.0.0-00010101000000-000000000000" -replace="$M/aws=../../aws")

for m in $(find . -name go.mod | sort); do (cd "$(dirname "$m")" && GOWORK=off GOFLAGS=-mod=mod go mod tidy) || { echo "tidy failed in $m"; exit 1; }; done
for m in $(find . -name go.mod | sort); do echo "$m: $(awk '/^require/{r=1} r&&/^\t/{n++} /^\)/{r=0} END{print n+0}' "$m") requires"; done
git add -A >/dev/null
bash "$here/.ci/consumers.sh" "$d"
