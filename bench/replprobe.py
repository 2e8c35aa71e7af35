#!/usr/bin/env python3
"""Replication probes for bench/replication.sh and bench/scaleout.sh (Talus and redis-server alike).

Speaks RESP over one loopback connection per server and reads the fields both servers publish in
INFO replication: master_repl_offset on the master, master_link_status, master_sync_in_progress and
slave_repl_offset on a replica. (Talus offsets are RocksDB sequence numbers, Redis offsets are bytes of
the replication stream: compare times, not offsets, across the two.)

  replprobe.py sync MASTER_PORT PORT [PORT ...] [--dbsize] [--digest] [--load "CMD"] [--timeout S]
      With --load, first starts CMD (a write load, e.g. redis-benchmark against the master) and waits 1 s.
      Then sends REPLICAOF 127.0.0.1 MASTER_PORT to every replica PORT, all before reading any reply (t0 =
      just before the first), and waits until each reports master_link_status:up and master_sync_in_progress:0 ("synced").
      Then stops the load (SIGTERM to CMD), waits until every replica's slave_repl_offset has reached the
      master's master_repl_offset ("offsets_equal"), with --dbsize until DBSIZE is equal ("dbsize_equal"),
      and with --digest checks DEBUG DIGEST is equal on all ("digest_equal"). Prints the seconds since t0
      at each step, as name=value lines.
  replprobe.py lag MASTER_PORT REPLICA_PORT [--interval 0.01] [--timeout S] -- CMD ARG...
      Runs CMD (the write load; its stdout goes to our stdout's "load:" lines) and samples both offsets
      every INTERVAL seconds while it runs; then reports the lag p50/p99 in offset units (master minus
      replica at a sample) and in ms (time until the replica reached the offset the master had at a sample).
Every wait is bounded by --timeout (default 600 s); on timeout it prints what it last saw and exits 1.
"""
import shlex
import socket
import subprocess
import sys
import time


class Resp:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def call(self, *args):
        self.send(*args)
        return self.read()

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def read(self):
        return self._reply()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError("unexpected reply: %r" % line)

    def info(self, section="replication"):
        fields = {}
        for line in self.call("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                fields[k] = v
        return fields


def options(argv):
    """Splits argv into positional ports, --name value options (--dbsize/--digest are flags), and the
    command after "--"."""
    ports, opts, i = [], {}, 0
    command = []
    while i < len(argv):
        a = argv[i]
        if a == "--":
            command = argv[i + 1:]
            break
        if a in ("--dbsize", "--digest"):
            opts[a[2:]] = True
        elif a.startswith("--"):
            opts[a[2:]] = argv[i + 1]
            i += 1
        else:
            ports.append(int(a))
        i += 1
    return ports, opts, command


def replica_offset(info):
    return int(info.get("slave_repl_offset", "0") or 0)


def synced(info):
    return info.get("master_link_status") == "up" and info.get("master_sync_in_progress", "0") == "0"


def stop(process):
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sync(argv):
    ports, opts, _ = options(argv)
    master_port, replicas = ports[0], ports[1:]
    timeout = float(opts.get("timeout", 600))
    master = Resp(master_port)
    conns = {p: Resp(p) for p in replicas}
    load = None
    if "load" in opts:
        load = subprocess.Popen(shlex.split(opts["load"]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        if load.poll() is not None:
            print("the load exited within 1 s (status %s)" % load.returncode, file=sys.stderr)
            return 1
    try:
        # All REPLICAOFs go out before any reply is read, so the replicas join together even when a server
        # is slow to answer.
        t0 = time.time()
        for p in replicas:
            conns[p].send("REPLICAOF", "127.0.0.1", master_port)
        for p in replicas:
            conns[p].read()
        print("joined=%.2f (%d replicas)" % (time.time() - t0, len(replicas)), flush=True)
        done = {}
        while len(done) < len(replicas):
            for p in replicas:
                if p not in done and synced(conns[p].info()):
                    done[p] = time.time() - t0
                    print("replica_%d_synced=%.2f" % (p, done[p]), flush=True)
            if time.time() - t0 > timeout:
                for p in replicas:
                    if p not in done:
                        print("replica %d not synced after %.0f s: %s" % (p, timeout, conns[p].info()), file=sys.stderr)
                return 1
            time.sleep(0.01)
        print("synced=%.2f" % max(done.values()), flush=True)
    finally:
        if load is not None:
            load_running = load.poll() is None
            stop(load)
    if load is not None:
        print("load_stopped=%.2f (still running when all synced: %s)" % (time.time() - t0, "yes" if load_running else "no"), flush=True)
    while True:
        target = int(master.info()["master_repl_offset"])
        infos = {p: conns[p].info() for p in replicas}
        if all(synced(i) and replica_offset(i) >= target for i in infos.values()):
            break
        if time.time() - t0 > timeout:
            print("offsets not caught up after %.0f s: master %d, replicas %s" % (
                timeout, target, {p: replica_offset(i) for p, i in infos.items()}), file=sys.stderr)
            return 1
        time.sleep(0.01)
    print("offsets_equal=%.2f (master offset %d)" % (time.time() - t0, target), flush=True)
    if "dbsize" in opts:
        expected = master.call("DBSIZE")
        while True:
            sizes = {p: conns[p].call("DBSIZE") for p in replicas}
            if all(s == expected for s in sizes.values()):
                break
            if time.time() - t0 > timeout:
                print("DBSIZE differs after %.0f s: master %d, replicas %s" % (timeout, expected, sizes), file=sys.stderr)
                return 1
            time.sleep(0.05)
        print("dbsize_equal=%.2f (%d keys)" % (time.time() - t0, expected), flush=True)
    if "digest" in opts:
        # Asked of all nodes at once: each computes its own, so the time is that of the slowest, not the sum.
        master.send("DEBUG", "DIGEST")
        for p in replicas:
            conns[p].send("DEBUG", "DIGEST")
        expected = master.read()
        digests = {p: conns[p].read() for p in replicas}
        bad = {p: d for p, d in digests.items() if d != expected}
        if bad:
            print("DEBUG DIGEST differs: master %s, replicas %s" % (expected, bad), file=sys.stderr)
            return 1
        print("digest_equal=%.2f (%s)" % (time.time() - t0, expected), flush=True)
    return 0


def percentile(values, p):
    if not values:
        return 0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def lag(argv):
    ports, opts, command = options(argv)
    master_port, replica_port = ports
    interval = float(opts.get("interval", 0.01))
    timeout = float(opts.get("timeout", 600))
    master, replica = Resp(master_port), Resp(replica_port)
    samples = []  # (time of the master read, master offset, time of the replica read, replica offset)
    start = time.time()
    load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    loaded_until = None
    final_target = 0
    try:
        while True:
            tick = time.time()
            m = int(master.info()["master_repl_offset"])
            tm = time.time()
            r = replica_offset(replica.info())
            tr = time.time()
            if loaded_until is None and load.poll() is not None:
                loaded_until = len(samples)
                final_target = m
            samples.append((tm, m, tr, r))
            # After the load, keep sampling until the replica has the master's last offset.
            if loaded_until is not None and r >= final_target:
                break
            if tick - start > timeout:
                print("no convergence after %.0f s" % timeout, file=sys.stderr)
                return 1
            time.sleep(max(0.0, interval - (time.time() - tick)))
    finally:
        stop(load)
    for line in load.stdout.read().splitlines():
        print("load: " + line)
    loaded = samples[:loaded_until]
    offset_lag = [max(0, m - r) for (_, m, _, r) in loaded]
    ms_lag = []
    j = 0
    for i, (tm, m, _, _) in enumerate(loaded):
        j = max(j, i)
        while j < len(samples) and samples[j][3] < m:
            j += 1
        if j < len(samples):
            ms_lag.append(max(0.0, (samples[j][2] - tm) * 1000.0))
    gaps = [b[0] - a[0] for a, b in zip(loaded, loaded[1:])]
    print("samples=%d interval_p50_ms=%.1f" % (len(loaded), percentile(gaps, 50) * 1000.0))
    print("lag_offsets_p50=%d lag_offsets_p99=%d lag_offsets_max=%d" % (
        percentile(offset_lag, 50), percentile(offset_lag, 99), max(offset_lag, default=0)))
    print("lag_ms_p50=%.1f lag_ms_p99=%.1f lag_ms_max=%.1f" % (
        percentile(ms_lag, 50), percentile(ms_lag, 99), max(ms_lag, default=0.0)))
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("sync", "lag"):
        print(__doc__, file=sys.stderr)
        return 2
    return {"sync": sync, "lag": lag}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
