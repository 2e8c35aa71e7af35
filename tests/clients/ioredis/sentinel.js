// ioredis in Sentinel mode, writing through a failover: it asks the sentinels for the master of --name, writes
// SET io:<i> v<i> one after another (each retried until acknowledged, then WAIT 1 100), and goes on when the
// master changes. Prints "progress <n>" every 50 acknowledged writes, then one JSON line:
//   {"written": n, "ports": [port of the first write, port of the last], "changes": c,
//    "unreplicated": [i of each write that no replica had confirmed, and that a master other than the last took],
//    "errors": [distinct messages]}
// Redis Sentinel keeps no promise for those: a demoted master drops what it took after the promotion.
//
//   node sentinel.js --sentinels 127.0.0.1:26379,127.0.0.1:26380 --name talus --count 600
//
// It stops once --count writes are acknowledged and the master has changed at least once. Exits 2 if that has
// not happened within 90 s.
"use strict";

const Redis = require("ioredis");

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const sentinels = option("sentinels", "127.0.0.1:26379")
  .split(",")
  .map((s) => ({ host: s.split(":")[0], port: Number(s.split(":")[1]) }));
const name = option("name", "talus");
const count = Number(option("count", "600"));

const redis = new Redis({
  sentinels,
  name,
  // A demoted master answers READONLY until Sentinel's CLIENT KILL closes the connection: reconnect at once,
  // and resend the command, as ioredis' documentation recommends for failovers.
  reconnectOnError: (err) => (err.message.startsWith("READONLY") ? 2 : false),
  retryStrategy: (times) => Math.min(times * 50, 500),
  sentinelRetryStrategy: (times) => Math.min(times * 50, 500),
  maxRetriesPerRequest: 20,
});
const errors = new Set();
redis.on("error", (e) => errors.add(e.message));

const deadline = setTimeout(() => {
  console.log(JSON.stringify({ error: "deadline: 90 s passed", written, ports, errors: [...errors] }));
  process.exit(2);
}, 90_000);

let written = 0;
const ports = [];
const unconfirmed = [];
(async () => {
  while (written < count || new Set(ports).size < 2) {
    const i = written;
    try {
      await redis.set(`io:${i}`, `v${i}`);
    } catch (e) {
      errors.add(e.message);
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    const port = redis.stream?.remotePort;
    if (ports.length === 0 || ports[ports.length - 1] !== port) {
      ports.push(port);
    }
    const replicas = await redis.wait(1, 100).catch(() => 0);
    if (replicas < 1) {
      unconfirmed.push([i, port]);
    }
    written++;
    if (written % 50 === 0) {
      console.log(`progress ${written}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  clearTimeout(deadline);
  const last = ports[ports.length - 1];
  const unreplicated = unconfirmed.filter(([, port]) => port !== last).map(([i]) => i);
  console.log(JSON.stringify({ written, ports: [ports[0], last], changes: ports.length - 1, unreplicated, errors: [...errors].sort() }));
  redis.disconnect();
  process.exit(0);
})();
