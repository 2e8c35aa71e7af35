#!/usr/bin/env bash
# Scale-out: four replicas join a loaded master at once. Talus next to redis-server, in one run, one set of
# servers at a time, on loopback.
#
# For each server: a master is filled with KEYS keys (key:000000000000.., one pipelined connection); a write
# load starts against it (redis-benchmark -t set -r 1000000 -c LOAD_CLIENTS -P 1 -n LOAD_N: overwrites of the
# same keys, bounded in count); one second later four empty replicas get REPLICAOF, one right after the
# other (all within a few ms, well inside 2 s; t0 = the first). When all four report the sync done
# (master_link_status:up, master_sync_in_progress:0) the load is stopped; then the time until every
# replica's offset equals the master's, and until DEBUG DIGEST (asked of all five at once) is equal on all
# (computing the digests is part of that last time). "joined" is the time until all REPLICAOFs were answered.
# Bar: Talus' time to consistent (offsets equal, then
# digests equal) <= 1.5x Redis'.
#
# Both servers run with their shipped replication defaults: Talus max-full-sync-parallel 2 (at most two
# full-sync transfers at a time, the others queue); redis-server 7.0 repl-diskless-sync yes with
# repl-diskless-sync-delay 5 (it waits 5 s for more replicas, then streams one RDB to all that arrived).
# redis-server also runs --appendonly yes --appendfsync everysec --save ''.
#
# Usage: bench/scaleout.sh
# Environment: BENCH_KEYS (default 1000000), BENCH_VALUE_SIZE (default 3), BENCH_REPLICAS (default 4),
# BENCH_LOAD_CLIENTS (default 4), BENCH_LOAD_N (default 20000000, an upper bound: the load is stopped when
# the replicas are synced), BENCH_SERVERS (default "talus redis"), BENCH_OUT (also write the report there).
# Smoke run: BENCH_KEYS=100000. Every server it starts is stopped on exit (trap); every wait is bounded.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
probe="$root/bench/replprobe.py"
keys="${BENCH_KEYS:-1000000}"
value_size="${BENCH_VALUE_SIZE:-3}"
replicas="${BENCH_REPLICAS:-4}"
load_clients="${BENCH_LOAD_CLIENTS:-4}"
load_n="${BENCH_LOAD_N:-20000000}"
servers="${BENCH_SERVERS:-talus redis}"
timeout=1200
load_start="$(loadavg)"
build_talus

declare -A result

value_of() {
  sed -n "s/^$1=\([0-9.]*\).*/\1/p" "$2" | head -1
}

scale_out() {
  local s="$1" mport i ports=()
  echo "== $s: master with $keys keys, $replicas replicas joining under load" >&2
  start_server "$s" "$s-master"
  mport="$last_port"
  fill "$mport" "$keys" "$value_size"
  for i in $(seq 1 "$replicas"); do
    start_server "$s" "$s-replica$i"
    ports+=("$last_port")
  done
  python3 "$probe" sync "$mport" "${ports[@]}" --digest --timeout "$timeout" \
    --load "redis-benchmark -h 127.0.0.1 -p $mport -t set -r 1000000 -c $load_clients -P 1 -n $load_n -q" \
    | tee "$work/$s.sync" >&2
  for f in joined synced load_stopped offsets_equal digest_equal; do
    result[$s.$f]="$(value_of "$f" "$work/$s.sync")"
  done
  result[$s.each]="$(sed -n 's/^replica_[0-9]*_synced=\([0-9.]*\)/\1/p' "$work/$s.sync" | paste -sd' ')"
  result[$s.offset]="$(sed -n 's/^offsets_equal=[0-9.]* (master offset \([0-9]*\)).*/\1/p' "$work/$s.sync")"
  stop_all
}

for s in $servers; do
  scale_out "$s"
done
load_end="$(loadavg)"

report() {
  echo "bench/scaleout.sh: BENCH_KEYS=$keys BENCH_VALUE_SIZE=$value_size BENCH_REPLICAS=$replicas BENCH_LOAD_CLIENTS=$load_clients BENCH_LOAD_N=$load_n"
  machine_line
  echo "load average (1/5/15 min): $load_start at start, $load_end at end"
  versions
  echo "load: redis-benchmark -t set -r 1000000 -c $load_clients -P 1 -n $load_n, from 1 s before the joins until all replicas synced"
  echo "defaults: talus max-full-sync-parallel 2; redis-server repl-diskless-sync yes, repl-diskless-sync-delay 5"
  echo
  echo "seconds from the first REPLICAOF ($replicas replicas, $keys keys)"
  echo
  echo "| server | joined s | each replica synced s | all synced s | offsets equal s | digests equal s |"
  echo "| --- | ---: | --- | ---: | ---: | ---: |"
  for s in $servers; do
    echo "| $s | ${result[$s.joined]:-n/a} | ${result[$s.each]:-n/a} | ${result[$s.synced]:-n/a} | ${result[$s.offsets_equal]:-n/a} | ${result[$s.digest_equal]:-n/a} |"
  done
  if [[ " $servers " == *" talus "* && " $servers " == *" redis "* ]]; then
    local r bar
    r="$(ratio "${result[talus.digest_equal]:-}" "${result[redis.digest_equal]:-}")"
    bar="$(awk -v r="$r" 'BEGIN { if (r == "n/a") print "n/a"; else print (r <= 1.5 ? "≤ 1.5: met" : "≤ 1.5: below") }')"
    echo "| talus/redis | | | $(ratio "${result[talus.synced]:-}" "${result[redis.synced]:-}") | $(ratio "${result[talus.offsets_equal]:-}" "${result[redis.offsets_equal]:-}") | $r ($bar) |"
  fi
}

if [[ -n "${BENCH_OUT:-}" ]]; then
  report | tee "$BENCH_OUT"
else
  report
fi
