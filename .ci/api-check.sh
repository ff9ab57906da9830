#!/usr/bin/env bash
# Fails when the exported API of a public package differs from the golden
# files in api/, so every API change is visible in review. The golden files
# are written by internal/cmd/apidump (source parsing only: no build).
#
# Usage: .ci/api-check.sh [repo-root]
set -euo pipefail
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The tool lives in the root module; GOWORK=off keeps a go.work, if any, out of it.
(cd "$root" && GOWORK=off go run ./internal/cmd/apidump -root "$root" -out "$tmp")

if ! diff -ruN "$root/api" "$tmp"; then
  echo
  echo "api-check: the exported API differs from api/ (diff above: - checked in, + now)."
  echo "If the change is intended, regenerate and commit the golden files:"
  echo "    go run ./internal/cmd/apidump && git add api/"
  exit 1
fi
echo "api-check: exported API matches api/ ($(ls "$tmp" | wc -l) packages)"
