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

if ! diff -ruN -x internal "$root/api" "$tmp"; then
  echo
  echo "api-check: the exported API differs from api/ (diff above: - checked in, + now)."
  echo "If the change is intended, regenerate and commit the golden files:"
  echo "    go run ./internal/cmd/apidump && git add api/"
  exit 1
fi
echo "api-check: exported API matches api/ ($(ls "$tmp" | wc -l) packages)"

# The root module's internal packages that released nested modules import
# are an API between our modules (RELEASING.md, "Why one version for the
# set"): within a major version they change additively only. A line of
# api/internal/ that is gone now is a removal or a signature change: fail.
# New lines are allowed (regenerate to record them).
mkdir -p "$tmp/internal-now"
(cd "$root" && GOWORK=off go run ./internal/cmd/apidump -root "$root" -internal -out "$tmp/internal-now")
gone=$(comm -23 <(cat "$root"/api/internal/*.txt 2>/dev/null | sort) <(cat "$tmp"/internal-now/*.txt 2>/dev/null | sort))
if [ -n "$gone" ]; then
  echo "$gone" | sed 's/^/- /'
  echo
  echo "api-check: an internal package another module imports lost or changed the lines above;"
  echo "within a major version they change additively only (RELEASING.md). Keep the old form"
  echo "(add the new one beside it), or, for a new major version, regenerate:"
  echo "    go run ./internal/cmd/apidump -internal && git add api/internal"
  exit 1
fi
added=$(comm -13 <(cat "$root"/api/internal/*.txt 2>/dev/null | sort) <(cat "$tmp"/internal-now/*.txt | sort) | wc -l)
echo "api-check: cross-module internal API keeps every line of api/internal/ ($(ls "$tmp/internal-now" | wc -l) packages, $added new lines; record them with: go run ./internal/cmd/apidump -internal)"
