#!/usr/bin/env bash
# bench-ratios.sh: run BenchmarkTokenHotPath and print how much faster the
# cache is than each competitor measured in the same process. Ratios, not
# absolute times, are what to compare: CI machines are shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(go test -run '^$' -bench 'BenchmarkTokenHotPath' -benchtime="${BENCHTIME:-200000x}" -count=1 ./e2e/integration/bench/)
echo "$out" | grep -E '^Benchmark|^ok'
echo "$out" | awk '
  /^BenchmarkTokenHotPath\// {
    split($1, p, "/"); name = p[2]; sub(/-[0-9]+$/, "", name)
    for (i = 2; i <= NF; i++) if ($(i+1) == "ns/op") ns[name] = $i
  }
  END {
    if (!ns["cache"] || !ns["cache_parallel"] || !ns["floor"] || !ns["floor_parallel"]) { print "bench-ratios: no cache or floor result" > "/dev/stderr"; exit 1 }
    printf "ratio cache / floor (target <= 1.2x)           = %.2fx\n", ns["cache"] / ns["floor"]
    printf "ratio cache_parallel / floor_parallel          = %.2fx\n", ns["cache_parallel"] / ns["floor_parallel"]
    printf "ratio x_oauth2_reuse / cache                   = %.1fx\n", ns["x_oauth2_reuse"] / ns["cache"]
    printf "ratio x_oauth2_reuse_parallel / cache_parallel = %.1fx\n", ns["x_oauth2_reuse_parallel"] / ns["cache_parallel"]
    printf "ratio azidentity / cache                       = %.1fx\n", ns["azidentity"] / ns["cache"]
    printf "ratio azidentity_parallel / cache_parallel     = %.1fx\n", ns["azidentity_parallel"] / ns["cache_parallel"]
  }'
