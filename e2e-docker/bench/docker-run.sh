#!/usr/bin/env bash
# Benchmark (not a test): wall time of `docker run --rm IMAGE true` with dockerd 20.10 on Strata's overlay driver
# (served by `strata plugin serve`) against the same dockerd's built-in overlay2, both daemons up at once on the
# same backing file system, measured by hyperfine in the same run; plus the plugin's resident memory when idle and
# its peak during the run loop.
#
#   e2e-docker/bench/docker-run.sh            # RUNS=30 ROUNDS=2 DRIVER=overlay BACKING=tmpfs
#   RUNS=50 BACKING=host DRIVER=vfs e2e-docker/bench/docker-run.sh
#   PLUGIN_DEBUG=1 e2e-docker/bench/docker-run.sh   # also: the plugin's own time per endpoint (from --debug)
#
# Needs root, dockerd + docker (docker.io), hyperfine, busybox-static. Results: $OUT (default
# target/bench-docker-run-<date>.json next to this script's module) and a summary on stdout.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
RUNS=${RUNS:-30}
ROUNDS=${ROUNDS:-2}
DRIVER=${DRIVER:-overlay}
BACKING=${BACKING:-tmpfs}
OUT=${OUT:-$repo/e2e-docker/target/bench-docker-run-$(date -u +%Y%m%dT%H%M%SZ).json}
for tool in dockerd docker hyperfine busybox; do command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 2; }; done
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }

id=strata-bench-$$
base=/tmp/$id
plugin_sock=/run/docker/plugins/$id.sock
mkdir -p "$base" "$(dirname "$OUT")"
[ "$BACKING" = tmpfs ] && mount -t tmpfs -o size=4g "$id" "$base"
pids=()

cleanup() {
  set +e
  for h in a b; do
    [ -S "$base/$h.sock" ] && ids=$(docker -H "unix://$base/$h.sock" ps -aq) && [ -n "$ids" ] && docker -H "unix://$base/$h.sock" rm -f $ids >/dev/null
  done
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do for _ in $(seq 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done; kill -KILL "$p" 2>/dev/null; done
  # Leftover shims or container processes of these daemons, by their namespace (in the command line) or cgroup.
  for p in $(grep -l "$id" /proc/[0-9]*/cmdline /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 | sort -u); do
    [ "$p" != $$ ] && kill -KILL "$p" 2>/dev/null
  done
  grep -o " $base[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  find /sys/fs/cgroup -maxdepth 2 -name "$id-*" -type d 2>/dev/null | while read -r cg; do find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  rm -rf "$base"
}
trap cleanup EXIT

# Strata's plugin, as an operator runs it (the launcher builds the CLI on first use).
debug=()
[ -n "${PLUGIN_DEBUG:-}" ] && debug=(--debug)
"$repo/strata" plugin serve "${debug[@]}" --socket "$plugin_sock" -s "$DRIVER" >"$base/plugin.log" 2>&1 &
plugin_pid=$!
pids+=("$plugin_pid")
for _ in $(seq 300); do [ -S "$plugin_sock" ] && break; sleep 0.1; done
[ -S "$plugin_sock" ] || { cat "$base/plugin.log"; exit 1; }
# The launcher execs java, so $plugin_pid is the JVM.

start_dockerd() { # name storage-driver
  local h=$1 sd=$2
  mkdir -p "$base/$h"
  echo '{}' >"$base/$h/daemon.json"
  dockerd --experimental -s "$sd" --data-root "$base/$h/data" --exec-root "$base/$h/exec" --pidfile "$base/$h/pid" \
    --config-file "$base/$h/daemon.json" -H "unix://$base/$h.sock" --iptables=false --ip6tables=false --bridge=none \
    --containerd-namespace "$id-$h" --containerd-plugins-namespace "$id-$h-p" --cgroup-parent "/$id-$h" \
    >"$base/$h/dockerd.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 300); do docker -H "unix://$base/$h.sock" version >/dev/null 2>&1 && return 0; sleep 0.1; done
  tail -20 "$base/$h/dockerd.log"; return 1
}
start_dockerd a "$id"
start_dockerd b overlay2

rootfs=$base/rootfs
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
cp /bin/busybox "$rootfs/bin/"
for a in sh true; do ln -sf busybox "$rootfs/bin/$a"; done
tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -cf "$base/busybox.tar" .
for h in a b; do docker -H "unix://$base/$h.sock" import "$base/busybox.tar" bench/busybox:1 >/dev/null; done
echo "docker info (a): $(docker -H "unix://$base/a.sock" info --format '{{.Driver}} {{.DriverStatus}}')"
echo "docker info (b): $(docker -H "unix://$base/b.sock" info --format '{{.Driver}} {{.DriverStatus}}')"

rss() { awk '/VmRSS/ {print $2}' "/proc/$plugin_pid/status"; }
for h in a b; do for _ in 1 2 3; do docker -H "unix://$base/$h.sock" run --rm --network none bench/busybox:1 true; done; done
sleep 3
loop_start=$(wc -l <"$base/plugin.log")
idle_kb=$(rss)

( peak=0; while kill -0 "$plugin_pid" 2>/dev/null; do r=$(rss || echo 0); [ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak" >"$base/peak"; sleep 0.1; done ) &
sampler=$!

results=()
for round in $(seq "$ROUNDS"); do
  # Alternate which daemon goes first, so drift on this shared machine does not favour one.
  if [ $((round % 2)) = 1 ]; then order=(a b); else order=(b a); fi
  cmds=()
  for h in "${order[@]}"; do cmds+=("docker -H unix://$base/$h.sock run --rm --network none bench/busybox:1 true"); done
  hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$base/round$round.json" -n "${order[0]}" "${cmds[0]}" -n "${order[1]}" "${cmds[1]}" >&2
  results+=("$base/round$round.json")
done
kill "$sampler" 2>/dev/null || true
peak_kb=$(cat "$base/peak" 2>/dev/null || echo 0)
after_kb=$(rss)

if [ -n "${PLUGIN_DEBUG:-}" ]; then
  echo "plugin time per call during the run loop (request read to reply written):"
  tail -n +"$loop_start" "$base/plugin.log" | sed -nE 's/.*FINE: (\S+) [0-9]+ in ([0-9.]+) ms.*/\1 \2/p' |
    awk '{s[$1]+=$2; n[$1]++} END {for (k in s) printf "  %-30s %5d calls, mean %.2f ms\n", k, n[k], s[k]/n[k]}' | sort
fi

python3 - "$OUT" "$DRIVER" "$BACKING" "$RUNS" "$idle_kb" "$peak_kb" "$after_kb" "${results[@]}" <<'PY'
import json, statistics, sys, platform, datetime
out, driver, backing, runs, idle, peak, after = sys.argv[1:8]
rounds = []
for f in sys.argv[8:]:
    r = {x["command"]: x for x in json.load(open(f))["results"]}
    a, b = r["a"], r["b"]
    rounds.append({"strata_median_s": a["median"], "overlay2_median_s": b["median"],
                   "strata_mean_s": a["mean"], "overlay2_mean_s": b["mean"],
                   "ratio_median": a["median"] / b["median"], "ratio_mean": a["mean"] / b["mean"]})
summary = {"date": datetime.datetime.utcnow().isoformat() + "Z", "kernel": platform.release(), "driver": driver,
           "backing": backing, "runs_per_round": int(runs), "rounds": rounds,
           "ratio_median_of_rounds": statistics.median(x["ratio_median"] for x in rounds),
           "plugin_rss_idle_kib": int(idle), "plugin_rss_peak_kib": int(peak), "plugin_rss_after_kib": int(after)}
json.dump(summary, open(out, "w"), indent=2)
for i, x in enumerate(rounds, 1):
    print(f"round {i}: strata-{driver} {x['strata_median_s']*1000:.0f} ms, overlay2 {x['overlay2_median_s']*1000:.0f} ms"
          f" (medians), ratio {x['ratio_median']:.2f}")
print(f"ratio (median of rounds): {summary['ratio_median_of_rounds']:.2f}   goal <= 1.2")
print(f"plugin RSS: idle {int(idle)/1024:.0f} MiB, peak during the run loop {int(peak)/1024:.0f} MiB, after {int(after)/1024:.0f} MiB")
print(f"results: {out}")
PY
