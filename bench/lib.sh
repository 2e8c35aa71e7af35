# Shared helpers of bench/replication.sh and bench/scaleout.sh (sourced, not run).
#
# Every server is started on a free loopback port with its own directory under "$work" (a temp directory),
# and its PID is recorded in "pids": the EXIT trap stops exactly those PIDs (SIGTERM, then SIGKILL after
# 10 s) and removes "$work". Nothing else is ever signalled.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$PATH:$HOME/.dotnet/tools"

for tool in redis-benchmark redis-cli redis-server python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is missing (apt-get install redis-server redis-tools python3)" >&2
    exit 1
  fi
done

work="$(mktemp -d /tmp/talus-bench.XXXXXX)"
pids=()
used_ports=" "
last_pid=""

stop_pid() {
  local pid="$1"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

stop_all() {
  local pid
  for pid in "${pids[@]}"; do
    stop_pid "$pid"
  done
  pids=()
}

cleanup() {
  stop_all
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
  for _ in $(seq 1 200); do
    port=$((10000 + RANDOM % (ephemeral_low - 10000)))
    if [[ "$used_ports" != *" $port "* ]] && ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      used_ports+="$port "
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# free_port runs in a subshell, so reserve the port it gave in this shell too.
reserve_port() {
  used_ports+="$1 "
}

# Waits (at most 60 s) until the server on $1 answers PING; $2 names it, $3 is its PID.
wait_ready() {
  local port="$1" name="$2" pid="$3"
  for _ in $(seq 1 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
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

# Builds Talus once (./talus builds when the sources are newer than the last build); servers are then started
# from the built binary, so editing a source file during a run cannot trigger a build inside a server start.
build_talus() {
  "$root/talus" --version >/dev/null
}

# The environment ./talus sets for the server (see the launcher).
export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS="${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1}"

# start_server KIND NAME [--option value ...]: starts KIND (talus or redis) on a free port with data under
# $work/NAME and waits until it answers. Sets last_pid and last_port. Another process on this shared machine
# may take the port between the check and the bind: then it tries again on another port (3 attempts).
start_server() {
  local kind="$1" name="$2" attempt
  shift 2
  for attempt in 1 2 3; do
    last_port="$(free_port)"
    reserve_port "$last_port"
    rm -rf "${work:?}/$name"
    mkdir -p "$work/$name"
    if [[ "$kind" == talus ]]; then
      # Talus with the defaults it ships (appendfsync everysec, max-full-sync-parallel 2).
      "$root/.build/bin/talus" --port "$last_port" --dir "$work/$name" "$@" >"$work/$name.log" 2>&1 &
    else
      # redis-server with AOF (appendfsync everysec), no RDB save points, DEBUG allowed (DEBUG DIGEST).
      redis-server --port "$last_port" --bind 127.0.0.1 --dir "$work/$name" --appendonly yes --appendfsync everysec \
        --save '' --enable-debug-command yes --daemonize no "$@" >"$work/$name.log" 2>&1 &
    fi
    last_pid=$!
    pids+=("$last_pid")
    if wait_ready "$last_port" "$name" "$last_pid"; then
      return 0
    fi
    if ! grep -qiE "address already in use" "$work/$name.log"; then
      return 1
    fi
    echo "port $last_port was taken meanwhile; trying another" >&2
  done
  return 1
}

# fill PORT KEYS VALUE_BYTES: SETs key:000000000000 .. key:(KEYS-1) through one pipelined connection
# (redis-cli --pipe), so the dataset is exactly KEYS keys.
fill() {
  local port="$1" keys="$2" size="$3"
  awk -v n="$keys" -v size="$size" 'BEGIN {
    value = sprintf("%0" size "d", 0)
    for (i = 0; i < n; i++) {
      key = sprintf("key:%012d", i)
      printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(key), key, size, value
    }
  }' | redis-cli -h 127.0.0.1 -p "$port" --pipe >"$work/fill-$port.log" 2>&1 || {
    echo "filling 127.0.0.1:$port failed:" >&2
    cat "$work/fill-$port.log" >&2
    return 1
  }
  local size_now
  size_now="$(redis-cli -h 127.0.0.1 -p "$port" DBSIZE)"
  if [[ "$size_now" != "$keys" ]]; then
    echo "after the fill 127.0.0.1:$port holds $size_now keys, not $keys" >&2
    return 1
  fi
}

info_field() {
  redis-cli -h 127.0.0.1 -p "$1" INFO "${3:-replication}" | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}

loadavg() {
  cut -d' ' -f1-3 /proc/loadavg
}

machine_line() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
}

versions() {
  echo "talus: $("$root/.build/bin/talus" --version 2>/dev/null | head -1)"
  echo "redis: $(redis-server --version | head -1)"
}

ratio() {
  if [[ -n "$1" && -n "$2" ]]; then
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'
  else
    echo "n/a"
  fi
}

# Runs redis-benchmark's SET test against $1 with the remaining arguments; prints requests per second.
bench_set_rps() {
  local port="$1"
  shift
  redis-benchmark -h 127.0.0.1 -p "$port" -t set "$@" --csv 2>"$work/bench.err" \
    | sed -n 's/^"SET","\([0-9.]*\)".*/\1/p' | head -1
}
