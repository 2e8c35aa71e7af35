#!/usr/bin/env bash
# Replication of Talus next to redis-server, in one run, one server pair at a time, on loopback:
#
#  (a) full sync: a master filled with KEYS keys (exactly: key:000000000000.., one pipelined connection);
#      an empty replica gets REPLICAOF; measured from REPLICAOF to the replica reporting the sync done
#      (master_link_status:up, master_sync_in_progress:0), and to offsets and DBSIZE equal. DEBUG DIGEST
#      is compared afterwards (not timed) to prove the copy.
#  (b) write throughput: redis-benchmark -t set -n WRITE_N -r 1000000 -c 50 -P 16 against a fresh master with
#      no replica, then against a fresh master with one synced replica attached. Bar: Talus >= 0.8x.
#  (c) replication lag during the (b) run with the replica: master_repl_offset and the replica's
#      slave_repl_offset sampled every ~10 ms (INFO replication); lag in offset units (master minus replica
#      at a sample) and in ms (time until the replica reached the offset the master had at a sample; the
#      resolution is the sampling interval). Talus offsets are RocksDB sequence numbers (one per key
#      written), Redis offsets are bytes of the replication stream: compare the ms, not the offsets.
#
# Servers: Talus with the defaults it ships (appendfsync everysec); redis-server --appendonly yes
# --appendfsync everysec --save '' with repl-diskless-sync-delay 0 (its default of 5 s would only add a
# fixed wait for further replicas to a single-replica sync; everything else is Redis' default, i.e.
# diskless sync).
#
# Usage: bench/replication.sh
# Environment: BENCH_KEYS (default 1000000), BENCH_VALUE_SIZE (bytes, default 3, as redis-benchmark),
# BENCH_WRITE_N (requests of the write test, default 1000000), BENCH_SERVERS (default "talus redis"),
# BENCH_OUT (also write the report to this file). Smoke run: BENCH_KEYS=100000 BENCH_WRITE_N=200000.
# Every server it starts is stopped on exit (trap); every wait is bounded (replprobe.py --timeout).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
probe="$root/bench/replprobe.py"
keys="${BENCH_KEYS:-1000000}"
value_size="${BENCH_VALUE_SIZE:-3}"
write_n="${BENCH_WRITE_N:-1000000}"
servers="${BENCH_SERVERS:-talus redis}"
timeout=900
redis_master_args=(--repl-diskless-sync-delay 0)
load_start="$(loadavg)"
build_talus

declare -A result

start_master() {
  if [[ "$1" == talus ]]; then start_server talus "$2"; else start_server redis "$2" "${redis_master_args[@]}"; fi
}

value_of() {
  sed -n "s/^$1=\([0-9.]*\).*/\1/p" "$2" | head -1
}

full_sync() {
  local s="$1" mport rport start end
  echo "== $s: full sync of $keys keys" >&2
  start_master "$s" "$s-master"
  mport="$last_port"
  start="$(date +%s.%N)"
  fill "$mport" "$keys" "$value_size"
  end="$(date +%s.%N)"
  result[$s.fill]="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
  start_server "$s" "$s-replica"
  rport="$last_port"
  python3 "$probe" sync "$mport" "$rport" --dbsize --digest --timeout "$timeout" | tee "$work/$s.sync" >&2
  result[$s.synced]="$(value_of synced "$work/$s.sync")"
  result[$s.equal]="$(value_of dbsize_equal "$work/$s.sync")"
  stop_all
}

writes_and_lag() {
  local s="$1" mport rport
  echo "== $s: SET throughput, no replica" >&2
  start_master "$s" "$s-master-alone"
  mport="$last_port"
  result[$s.alone]="$(bench_set_rps "$mport" -n "$write_n" -r 1000000 -c 50 -P 16)"
  stop_all

  echo "== $s: SET throughput with one replica, lag sampled" >&2
  start_master "$s" "$s-master-repl"
  mport="$last_port"
  start_server "$s" "$s-replica-repl"
  rport="$last_port"
  python3 "$probe" sync "$mport" "$rport" --timeout "$timeout" >"$work/$s.sync2"
  python3 "$probe" lag "$mport" "$rport" --interval 0.01 --timeout "$timeout" -- \
    redis-benchmark -h 127.0.0.1 -p "$mport" -t set -n "$write_n" -r 1000000 -c 50 -P 16 --csv \
    | tee "$work/$s.lag" >&2
  result[$s.withrepl]="$(sed -n 's/^load: "SET","\([0-9.]*\)".*/\1/p' "$work/$s.lag" | head -1)"
  python3 "$probe" sync "$mport" "$rport" --digest --timeout "$timeout" >"$work/$s.sync3"
  for f in samples lag_offsets_p50 lag_offsets_p99 lag_ms_p50 lag_ms_p99 lag_ms_max interval_p50_ms; do
    result[$s.$f]="$(sed -n "s/.*\<$f=\([0-9.a-z]*\).*/\1/p" "$work/$s.lag" | head -1)"
  done
  stop_all
}

for s in $servers; do
  full_sync "$s"
done
for s in $servers; do
  writes_and_lag "$s"
done
load_end="$(loadavg)"

fmt0() {
  if [[ -n "$1" ]]; then awk -v x="$1" 'BEGIN { printf "%.0f", x }'; else echo "n/a"; fi
}

report() {
  echo "bench/replication.sh: BENCH_KEYS=$keys BENCH_VALUE_SIZE=$value_size BENCH_WRITE_N=$write_n"
  machine_line
  echo "load average (1/5/15 min): $load_start at start, $load_end at end"
  versions
  echo "redis-server: --appendonly yes --appendfsync everysec --save '' ${redis_master_args[*]} (master); talus: shipped defaults"
  echo
  echo "(a) full sync of $keys keys ($value_size-byte values), seconds from REPLICAOF"
  echo
  echo "| server | fill s | sync done s | offsets + DBSIZE equal s |"
  echo "| --- | ---: | ---: | ---: |"
  for s in $servers; do
    echo "| $s | ${result[$s.fill]:-n/a} | ${result[$s.synced]:-n/a} | ${result[$s.equal]:-n/a} |"
  done
  if [[ " $servers " == *" talus "* && " $servers " == *" redis "* ]]; then
    echo "| talus/redis | | $(ratio "${result[talus.synced]:-}" "${result[redis.synced]:-}") | $(ratio "${result[talus.equal]:-}" "${result[redis.equal]:-}") |"
  fi
  echo
  echo "(b) redis-benchmark -t set -n $write_n -r 1000000 -c 50 -P 16, fresh master each"
  echo
  echo "| server | no replica ops/s | one replica ops/s | with/without | bar |"
  echo "| --- | ---: | ---: | ---: | --- |"
  for s in $servers; do
    local r bar=""
    r="$(ratio "${result[$s.withrepl]:-}" "${result[$s.alone]:-}")"
    if [[ "$s" == talus && "$r" != n/a ]]; then
      bar="$(awk -v r="$r" 'BEGIN { print (r >= 0.8 ? "≥ 0.8: met" : "≥ 0.8: below") }')"
    fi
    echo "| $s | $(fmt0 "${result[$s.alone]:-}") | $(fmt0 "${result[$s.withrepl]:-}") | $r | $bar |"
  done
  echo
  echo "(c) replication lag during the (b) run with a replica (offsets sampled every 10 ms)"
  echo
  echo "| server | samples | lag p50 (offsets) | lag p99 (offsets) | lag p50 ms | lag p99 ms | lag max ms |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for s in $servers; do
    echo "| $s | ${result[$s.samples]:-n/a} | ${result[$s.lag_offsets_p50]:-n/a} | ${result[$s.lag_offsets_p99]:-n/a} | ${result[$s.lag_ms_p50]:-n/a} | ${result[$s.lag_ms_p99]:-n/a} | ${result[$s.lag_ms_max]:-n/a} |"
  done
}

if [[ -n "${BENCH_OUT:-}" ]]; then
  report | tee "$BENCH_OUT"
else
  report
fi
