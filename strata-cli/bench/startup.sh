#!/usr/bin/env bash
# strata exists / strata layers on a root with 1,000 layers, against a bare `java -version` of the same JDK, in
# the same run (issue 13's goal: <= 3x). Fair by the brief's rules: hyperfine rounds that alternate which side
# runs first (A B, B A, ...), each side warmed the same way, ROUNDS >= 5, the median and min-max of the per-round
# ratios, the load average at start and end. Run it under the heavy lock:
#   flock /work/.heavy.lock strata-cli/bench/startup.sh [ROUNDS] [LAUNCHER]
# LAUNCHER defaults to ./strata (the source checkout's); give /usr/bin/strata to time the installed package.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)"
rounds=${1:-6}
launcher=${2:-$repo/strata}
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
command -v hyperfine >/dev/null || { echo "startup.sh needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
work=$(mktemp -d /tmp/strata-bench-startup.XXXXXX)
trap 'umount "$work/root" 2>/dev/null; rm -rf "$work"' EXIT
mkdir "$work/root"
mount -t tmpfs -o size=256m strata-bench-startup "$work/root"
"$launcher" --version >/dev/null # builds and records the AOT cache if needed
"$java" --enable-native-access=ALL-UNNAMED -cp "$repo/strata-cli/target/strata.jar" "$repo/strata-cli/bench/MakeLayers.java" "$work/root" vfs
id=$(printf '%064x' 5)
ref="$java -version"
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; launcher $launcher"
for cmd in "exists $id" "layers"; do
  target="$launcher --root $work/root -s vfs $cmd"
  ratios=()
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then order=("$ref" "$target"); else order=("$target" "$ref"); fi
    hyperfine -N -w 3 -r 10 --export-json "$work/r.json" "${order[@]}" >/dev/null 2>&1
    ratio=$(python3 - "$work/r.json" "$ref" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
ref = next(r for r in res if r["command"] == sys.argv[2]); tgt = next(r for r in res if r["command"] != sys.argv[2])
print(f'{tgt["median"] / ref["median"]:.2f} {ref["median"]*1000:.0f} {tgt["median"]*1000:.0f}')
PY
)
    ratios+=("$ratio")
  done
  printf '%s\n' "${ratios[@]}" | python3 -c '
import sys, statistics
rows = [l.split() for l in sys.stdin if l.strip()]
r = sorted(float(x[0]) for x in rows)
print(f"strata '"${cmd%% *}"' / java -version: median {statistics.median(r):.2f}x, min {r[0]:.2f}x, max {r[-1]:.2f}x over {len(r)} rounds;"
      f" medians per round (java ms, strata ms): " + ", ".join(f"{x[1]}/{x[2]}" for x in rows))'
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
