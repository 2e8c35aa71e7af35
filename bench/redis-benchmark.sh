#!/usr/bin/env bash
# Throughput of Talus next to redis-server and Garnet, measured with redis-benchmark.
#
# Starts each server in turn on a free loopback port with its own temp directory, ONE AT A TIME:
#   talus          ./talus --port P --dir TMP            (appendfsync everysec, its default)
#   redis-server   --appendonly yes --appendfsync everysec (no RDB save points)
#   garnet-server  --aof --aof-commit-freq 1000           (AOF committed every second; only if
#                  `dotnet tool install -g garnet-server` works)
# runs `redis-benchmark -t TESTS -n N -r 1000000 -c 50 -P 16 --csv` against it, stops it, and prints one
# table of requests per second per command and server, with the Talus/redis and Talus/garnet ratios.
# A command a server does not know is probed first and reported as n/a (redis-benchmark itself would
# count the error replies as answers and report a meaningless rate).
#
# The bar column gives the target ratio talus/redis for the commands that have one (0.5 for SET, GET and the
# collection commands) and whether this run met it. With BENCH_ROUNDS=N the servers take turns N times (talus,
# redis, talus, redis ...): the table gives each server's median ops/s, the median of the N per-round
# talus/redis ratios (the bar is judged on it) and every round's ratio, so one noisy round decides nothing. The load average (/proc/loadavg) at the start and at the
# end of the run is printed with the table: on a shared machine, judge the figures by it.
#
# Usage: bench/redis-benchmark.sh [-n N]     (-n 100000 for a smoke run)
# Environment: BENCH_N (requests per test, default 1000000; -n overrides it), BENCH_TESTS (default below),
# TALUS_BIN (a talus binary to run instead of building ./talus), TALUS_ARGS (extra talus arguments, e.g. "--rocksdb-write-buffer-size 64mb"), BENCH_KEYSPACE (the -r of every
# test, default 1000000; a smaller one gives a hot working set),
# BENCH_SERVERS (default "talus redis garnet"), BENCH_ROUNDS (default 1), BENCH_OUT (also write the report to this file),
# BENCH_WARMUP (requests per test run first, into database 1, before the measured run into database 0; default 300000, 0
# for none). Talus compiles its code while it runs (tiered JIT): a fresh process serves its first few hundred thousand
# commands with code not yet optimised, which redis-server has no counterpart of; the warm-up measures every server in
# its steady state, and BENCH_WARMUP=0 measures a freshly started one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${BENCH_N:-1000000}"
if [[ "${1:-}" == "-n" && -n "${2:-}" ]]; then
  n="$2"
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [-n REQUESTS]" >&2
  exit 2
fi
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
time_start="$(date -u '+%Y-%m-%d %H:%M')"
tests="${BENCH_TESTS:-set,get,incr,mset,lpush,lpop,sadd,hset,zadd,lrange_100}"
servers="${BENCH_SERVERS:-talus redis garnet}"
rounds="${BENCH_ROUNDS:-1}"
warmup="${BENCH_WARMUP:-300000}"
if ! [[ "$warmup" =~ ^[0-9]+$ ]]; then
  echo "BENCH_WARMUP must be a number of requests, not '$warmup'" >&2
  exit 2
fi
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
  echo "BENCH_ROUNDS must be a positive integer, not '$rounds'" >&2
  exit 2
fi
clients=50
pipeline=16
keyspace="${BENCH_KEYSPACE:-1000000}"
talus_bin="${TALUS_BIN:-$root/.build/bin/talus}"
export PATH="$PATH:$HOME/.dotnet/tools"

for tool in redis-benchmark redis-cli redis-server; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is missing: apt-get install redis-server redis-tools" >&2
    exit 1
  fi
done

work="$(mktemp -d /tmp/talus-bench.XXXXXX)"
server_pid=""

stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports are taken below the kernel's ephemeral range: a port above it may be the local end of a client
# connection (redis-benchmark's, or one in TIME_WAIT after it), which no connect probe sees but which makes
# the server's bind fail.
ephemeral_low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
if ! [[ "$ephemeral_low" =~ ^[0-9]+$ ]] || [[ "$ephemeral_low" -le 11000 ]]; then
  ephemeral_low=32768
fi

free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % (ephemeral_low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# Waits (at most 60 s) until the server answers PING; fails if it died.
wait_ready() {
  local port="$1" name="$2"
  for _ in $(seq 1 600); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "$name exited before it was ready; its log:" >&2
      tail -20 "$work/$name.log" >&2 || true
      return 1
    fi
    if [[ "$(redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null)" == "PONG" ]]; then
      return 0
    fi
    sleep 0.1
  done
  echo "$name did not answer PING within 60 s" >&2
  return 1
}

# The commands redis-benchmark sends for each test, as a probe (space-separated argv, one per line).
probe_commands() {
  case "$1" in
    set) echo "SET __probe:s v" ;;
    get) echo "GET __probe:s" ;;
    incr) echo "INCR __probe:n" ;;
    mset) echo "MSET __probe:a 1 __probe:b 2" ;;
    lpush) echo "LPUSH __probe:l a" ;;
    lpop) printf '%s\n' "LPUSH __probe:l a" "LPOP __probe:l" ;;
    sadd) echo "SADD __probe:set a" ;;
    hset) echo "HSET __probe:h f v" ;;
    zadd) echo "ZADD __probe:z 1 a" ;;
    lrange_*) printf '%s\n' "LPUSH __probe:l a" "LRANGE __probe:l 0 99" ;;
    *) echo "PING" ;;
  esac
}

# Prints the tests (comma-separated) the server on $1 supports; reports the others on stderr.
supported_tests() {
  local port="$1" name="$2" ok=() test cmd reply supported
  IFS=',' read -r -a all <<<"$tests"
  for test in "${all[@]}"; do
    supported=1
    while IFS= read -r cmd; do
      # shellcheck disable=SC2086
      reply="$(redis-cli -h 127.0.0.1 -p "$port" $cmd 2>&1 || true)"
      if grep -qiE "unknown command|unknown subcommand|not supported" <<<"$reply"; then
        supported=0
      fi
    done < <(probe_commands "$test")
    if [[ $supported -eq 1 ]]; then
      ok+=("$test")
    else
      echo "  $name does not support '$test': reported as n/a" >&2
    fi
  done
  redis-cli -h 127.0.0.1 -p "$port" DEL __probe:s __probe:n __probe:a __probe:b __probe:l __probe:set __probe:h __probe:z >/dev/null 2>&1 || true
  (IFS=','; echo "${ok[*]}")
}

start_talus() {
  # Build (./talus builds when the sources are newer than the last build), then run the built binary with the
  # launcher's environment, so the build can never eat into wait_ready's 60 s. TALUS_BIN runs another build.
  [[ -n "${TALUS_BIN:-}" ]] || "$root/talus" --version >/dev/null
  mkdir -p "$work/talus-data"
  DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS="${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1}" \
    "$talus_bin" --port "$1" --dir "$work/talus-data" ${TALUS_ARGS:-} >"$work/talus.log" 2>&1 &
  server_pid=$!
}

start_redis() {
  mkdir -p "$work/redis-data"
  redis-server --port "$1" --bind 127.0.0.1 --dir "$work/redis-data" --appendonly yes --appendfsync everysec \
    --save '' --daemonize no >"$work/redis.log" 2>&1 &
  server_pid=$!
}

garnet_available() {
  if command -v garnet-server >/dev/null 2>&1; then
    return 0
  fi
  echo "Installing garnet-server (dotnet tool install -g garnet-server)..." >&2
  if dotnet tool install -g garnet-server >"$work/garnet-install.log" 2>&1 && command -v garnet-server >/dev/null 2>&1; then
    return 0
  fi
  echo "garnet-server is not available (dotnet tool install -g garnet-server failed: $(tail -1 "$work/garnet-install.log")); skipping it" >&2
  return 1
}

start_garnet() {
  mkdir -p "$work/garnet-data"
  # Garnet's native Linux storage device needs libaio; without it, use its portable file device.
  local device=()
  if ! ldconfig -p 2>/dev/null | grep -qE 'libaio\.so\.1(t64)? '; then
    device=(--device-type RandomAccess)
  fi
  garnet-server --port "$1" --bind 127.0.0.1 --checkpointdir "$work/garnet-data" \
    --aof --aof-commit-freq 1000 "${device[@]}" --logger-level Warning >"$work/garnet.log" 2>&1 &
  server_pid=$!
}

version_of() {
  case "$1" in
    talus) "$talus_bin" --version 2>/dev/null | head -1 ;;
    redis) redis-server --version | head -1 ;;
    garnet) garnet-server --version 2>/dev/null | head -1 ;;
  esac
}

# Runs the benchmark against one server in round $2; leaves "$work/$name.$2.csv" (test,rps) and "$work/$name.version".
bench_server() {
  local name="$1" round="$2" port supported
  port="$(free_port)"
  echo "== $name on 127.0.0.1:$port (round $round of $rounds)" >&2
  # Every round starts from an empty data directory (a redis-server would otherwise load the last round's AOF).
  rm -rf "${work:?}/$name-data"
  "start_$name" "$port"
  wait_ready "$port" "$name"
  version_of "$name" >"$work/$name.version" || true
  supported="$(supported_tests "$port" "$name")"
  : >"$work/$name.$round.csv"
  if [[ -n "$supported" && "$warmup" -gt 0 ]]; then
    # The same tests first, into database 1 (the measured run uses database 0, which stays empty until then).
    redis-benchmark -h 127.0.0.1 -p "$port" -t "$supported" -n "$warmup" -r "$keyspace" -c "$clients" -P "$pipeline" \
      --dbnum 1 -q >/dev/null 2>&1 || echo "the warm-up run against $name failed" >&2
  fi
  if [[ -n "$supported" ]]; then
    redis-benchmark -h 127.0.0.1 -p "$port" -t "$supported" -n "$n" -r "$keyspace" -c "$clients" -P "$pipeline" --csv \
      >"$work/$name.raw.csv" 2>"$work/$name.bench.err" || {
        echo "redis-benchmark failed against $name:" >&2
        cat "$work/$name.bench.err" >&2
      }
    # "SET","366972.47",... → set,366972.47 ; "LRANGE_100 (first 100 elements)" → lrange_100 ; "MSET (10 keys)" → mset
    sed -n 's/^"\([^"]*\)","\([0-9.]*\)".*/\1,\2/p' "$work/$name.raw.csv" \
      | grep -v "needed to benchmark" \
      | sed 's/ (.*),/,/' | tr 'A-Z' 'a-z' >"$work/$name.$round.csv" || true
  fi
  stop_server
}

# The bar (minimum talus/redis ratio) a test is held to, empty when it has none.
bar_of() {
  case "$1" in
    set | get | lpush | lpop | sadd | hset | zadd | lrange_100) echo 0.5 ;;
    *) echo "" ;;
  esac
}

ran=()
for server in $servers; do
  if [[ "$server" == garnet ]] && ! garnet_available; then
    continue
  fi
  ran+=("$server")
done
for round in $(seq 1 "$rounds"); do
  for server in "${ran[@]}"; do
    bench_server "$server" "$round"
  done
done

load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

# Prints the median of the numbers on stdin (one per line), nothing when there are none.
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; m = int((NR + 1) / 2); print (NR % 2 ? v[m] : (v[m] + v[m + 1]) / 2) }'
}

# ops/s of server $1 for test $2 in round $3.
rps_in() {
  local file="$work/$1.$3.csv"
  [[ -f "$file" ]] || { echo ""; return; }
  awk -F, -v t="$2" '$1 == t { print $2 }' "$file" | head -1
}

# Median ops/s of server $1 for test $2 over the rounds.
rps() {
  local r
  for r in $(seq 1 "$rounds"); do
    rps_in "$1" "$2" "$r"
  done | grep . | median
}

# talus/$1 for test $2, each round's ratio (space-separated, n/a where a round has no figure).
round_ratios() {
  local r out=()
  for r in $(seq 1 "$rounds"); do
    out+=("$(ratio "$(rps_in talus "$2" "$r")" "$(rps_in "$1" "$2" "$r")")")
  done
  echo "${out[*]}"
}

# Median of the per-round talus/$1 ratios for test $2, n/a when no round has both figures.
median_ratio() {
  local m
  m="$(round_ratios "$1" "$2" | tr ' ' '\n' | grep -v n/a | median)"
  if [[ -n "$m" ]]; then
    awk -v x="$m" 'BEGIN { printf "%.2f", x }'
  else
    echo "n/a"
  fi
}

ratio() {
  if [[ -n "$1" && -n "$2" ]]; then
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
  else
    echo "n/a"
  fi
}

fmt() {
  if [[ -n "$1" ]]; then
    awk -v x="$1" 'BEGIN { printf "%.0f", x }'
  else
    echo "n/a"
  fi
}

has() {
  local s
  for s in "${ran[@]}"; do
    [[ "$s" == "$1" ]] && return 0
  done
  return 1
}

report() {
  echo "redis-benchmark -t $tests -n $n -r $keyspace -c $clients -P $pipeline --csv"
  echo "date: $time_start to $(date -u '+%H:%M') UTC; machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
  echo "load average (1/5/15 min): $load_start at start, $load_end at end"
  if [[ "$rounds" -gt 1 ]]; then
    echo "rounds: $rounds, servers in turn; ops/s and ratios are medians over the rounds"
  fi
  if [[ "$warmup" -gt 0 ]]; then
    echo "warm-up: each server first ran the same tests with -n $warmup into database 1 (BENCH_WARMUP=0: none)"
  else
    echo "warm-up: none (each test measured on a freshly started server)"
  fi
  echo "redis-benchmark: $(redis-benchmark --version 2>/dev/null | head -1)"
  for s in "${ran[@]}"; do
    echo "$s: $(cat "$work/$s.version" 2>/dev/null)"
  done
  echo
  local header="| command |" rule="| --- |" test
  for s in "${ran[@]}"; do
    header+=" $s ops/s |"
    rule+=" ---: |"
  done
  if has talus && has redis; then header+=" talus/redis | bar |"; rule+=" ---: | --- |"; fi
  if has talus && has redis && [[ "$rounds" -gt 1 ]]; then header+=" talus/redis by round |"; rule+=" --- |"; fi
  if has talus && has garnet; then header+=" talus/garnet |"; rule+=" ---: |"; fi
  echo "$header"
  echo "$rule"
  IFS=',' read -r -a all <<<"$tests"
  for test in "${all[@]}"; do
    local row="| $test |"
    for s in "${ran[@]}"; do
      row+=" $(fmt "$(rps "$s" "$test")") |"
    done
    if has talus && has redis; then
      local r bar verdict=""
      r="$(median_ratio redis "$test")"
      bar="$(bar_of "$test")"
      if [[ -n "$bar" && "$r" != "n/a" ]]; then
        verdict="$(awk -v r="$r" -v b="$bar" 'BEGIN { print (r >= b ? "≥ " b ": met" : "≥ " b ": below") }')"
      elif [[ -n "$bar" ]]; then
        verdict="≥ $bar"
      fi
      row+=" $r | $verdict |"
      if [[ "$rounds" -gt 1 ]]; then row+=" $(round_ratios redis "$test") |"; fi
    fi
    if has talus && has garnet; then row+=" $(median_ratio garnet "$test") |"; fi
    echo "$row"
  done
}

if [[ -n "${BENCH_OUT:-}" ]]; then
  report | tee "$BENCH_OUT"
else
  report
fi
