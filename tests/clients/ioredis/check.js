// Drives one server through ioredis the way applications use it, and prints one line per step:
// "<step>\t<JSON of what ioredis handed back>". The same run against Talus and against redis-server must print
// the same lines (tests/Talus.Server.Tests/IoredisClientTests.cs compares them).
//
//   node check.js --port 6379 [--protocol 2|3] [--password secret]
//
// Exits 0 after the last step, 2 when a step hangs past its deadline or the server cannot be reached.
"use strict";

const Redis = require("ioredis");

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const port = Number(option("port", "6379"));
const protocol = Number(option("protocol", "2"));
const password = option("password", undefined);
const base = { host: "127.0.0.1", port, protocol, password, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null };

const connections = [];
async function connect(extra = {}) {
  const client = new Redis({ ...base, ...extra });
  connections.push(client);
  await client.connect();
  return client;
}

// Maps and buffers as plain JSON, so both servers' replies print alike.
function plain(value) {
  if (value instanceof Map) {
    return { map: [...value.entries()].map(([k, v]) => [plain(k), plain(v)]) };
  }
  if (Buffer.isBuffer(value)) {
    return { hex: value.toString("hex") };
  }
  if (Array.isArray(value)) {
    return value.map(plain);
  }
  if (value instanceof Error) {
    return { error: value.message };
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function within(ms, promise, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline: ${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const steps = [];
const step = (name, run) => steps.push({ name, run });

step("ping", (r) => r.ping());
step("echo", (r) => r.echo("hello"));
step("flushall", (r) => r.flushall());
step("set-get", async (r) => [await r.set("s:1", "v1"), await r.get("s:1"), await r.get("s:missing")]);
step("set-options", async (r) => [
  await r.set("s:2", "a", "EX", 100),
  await r.set("s:2", "b", "NX"),
  await r.set("s:2", "c", "XX", "GET"),
  (await r.ttl("s:2")) > 90,
  await r.pttl("s:missing"),
]);
step("binary", async (r) => {
  const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10, 36, 42]);
  await r.set(Buffer.from([0xc3, 0x28, 0]), bytes);
  return [await r.getBuffer(Buffer.from([0xc3, 0x28, 0])), await r.strlen(Buffer.from([0xc3, 0x28, 0]))];
});
step("large-value", async (r) => {
  const value = "x".repeat(1024 * 1024) + "end";
  await r.set("s:large", value);
  return (await r.get("s:large")) === value;
});
step("mset-mget", async (r) => [await r.mset({ "m:1": "a", "m:2": "b" }), await r.mget("m:1", "m:2", "m:3")]);
step("counters", async (r) => [await r.incr("c:1"), await r.incrby("c:1", 10), await r.decr("c:1"), await r.incrbyfloat("c:2", 1.5)]);
step("keys", async (r) => [
  await r.exists("s:1", "m:1", "nope"),
  await r.type("s:1"),
  await r.expire("s:1", 1000),
  await r.persist("s:1"),
  await r.del("s:1", "nope"),
  await r.unlink("m:2"),
  await r.rename("m:1", "m:renamed"),
  (await r.keys("m:*")).sort(),
]);
step("hash", async (r) => [
  await r.hset("h:1", { a: "1", b: "2" }),
  await r.hset("h:1", "c", "3"),
  await r.hgetall("h:1"),
  await r.hmget("h:1", "a", "z"),
  await r.hincrby("h:1", "a", 5),
  (await r.hkeys("h:1")).sort(),
  await r.hlen("h:1"),
  await r.hexists("h:1", "b"),
  await r.hdel("h:1", "b", "z"),
  await r.hgetall("h:missing"),
]);
step("list", async (r) => [
  await r.rpush("l:1", "a", "b", "c"),
  await r.lpush("l:1", "z"),
  await r.lrange("l:1", 0, -1),
  await r.lpop("l:1"),
  await r.rpop("l:1", 2),
  await r.llen("l:1"),
  await r.lindex("l:1", 0),
]);
step("set", async (r) => [
  await r.sadd("t:1", "a", "b", "c", "a"),
  (await r.smembers("t:1")).sort(),
  await r.sismember("t:1", "b"),
  await r.smismember("t:1", "a", "x"),
  await r.srem("t:1", "a"),
  await r.scard("t:1"),
  (await r.sinter("t:1", "t:missing")).sort(),
]);
step("sorted-set", async (r) => [
  await r.zadd("z:1", 1, "one", 2, "two", 3, "three"),
  await r.zrange("z:1", 0, -1, "WITHSCORES"),
  await r.zrangebyscore("z:1", "(1", "+inf"),
  await r.zscore("z:1", "two"),
  await r.zincrby("z:1", 2.5, "one"),
  await r.zrank("z:1", "one"),
  await r.zrevrange("z:1", 0, 0),
  await r.zpopmin("z:1"),
  await r.zcard("z:1"),
]);
step("hyperloglog", async (r) => [await r.pfadd("p:1", "a", "b", "c"), await r.pfcount("p:1")]);
step("wrongtype", async (r) => {
  await r.set("w:1", "string");
  return [await r.hget("w:1", "f").catch((e) => e), await r.lpush("w:1", "x").catch((e) => e)];
});
step("unknown-and-arity", async (r) => [
  await r.call("NOSUCHCOMMAND", "a").catch((e) => e),
  await r.call("GET").catch((e) => e),
  await r.call("SET", "k").catch((e) => e),
]);
step("pipeline", (r) => r.pipeline().set("pl:1", "1").incr("pl:1").hget("pl:1", "f").get("pl:1").exec());
step("multi-exec", (r) => r.multi().set("tx:1", "a").append("tx:1", "b").lpush("tx:1", "x").get("tx:1").exec());
step("multi-queue-error", (r) =>
  r.multi().set("tx:2", "a").call("GET").exec().catch((e) => ({ error: e.message, previous: plain(e.previousErrors) }))
);
step("watch", async (r) => {
  const other = await connect();
  await r.set("wt:1", "0");
  await r.watch("wt:1");
  await other.set("wt:1", "changed");
  const aborted = await r.multi().set("wt:1", "mine").exec();
  await r.watch("wt:1");
  const committed = await r.multi().set("wt:1", "mine").exec();
  return [aborted, committed, await r.get("wt:1")];
});
step("scan-stream", async (r) => {
  const pipeline = r.pipeline();
  for (let i = 0; i < 250; i++) pipeline.set(`scan:${i}`, i);
  await pipeline.exec();
  const seen = new Set();
  await new Promise((resolve, reject) => {
    r.scanStream({ match: "scan:*", count: 40 }).on("data", (keys) => keys.forEach((k) => seen.add(k))).on("end", resolve).on("error", reject);
  });
  return seen.size;
});
step("collection-scan-streams", async (r) => {
  const fields = {};
  for (let i = 0; i < 120; i++) fields[`f${i}`] = `${i}`;
  await r.hset("hs:1", fields);
  await r.sadd("ss:1", ...Object.keys(fields));
  await r.zadd("zs:1", ...Object.keys(fields).flatMap((f, i) => [i, f]));
  const drain = (stream) =>
    new Promise((resolve, reject) => {
      const items = [];
      stream.on("data", (chunk) => items.push(...chunk)).on("end", () => resolve(items)).on("error", reject);
    });
  const hash = await drain(r.hscanStream("hs:1", { count: 25 }));
  const set = await drain(r.sscanStream("ss:1", { count: 25 }));
  const zset = await drain(r.zscanStream("zs:1", { count: 25 }));
  return [hash.length, new Set(set).size, zset.length];
});
step("blocking", async (r) => {
  const timedOut = await r.blpop("bl:empty", 0.1);
  const waiter = await connect();
  const pending = waiter.brpop("bl:1", 5);
  // Push only once the server counts the waiter as blocked.
  for (let i = 0; i < 200 && !/^blocked_clients:1\r?$/m.test(await r.info("clients")); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await r.lpush("bl:1", "woken");
  return [timedOut, await pending];
});
step("pubsub", async (r) => {
  const subscriber = await connect();
  const received = [];
  const got = new Promise((resolve) => {
    subscriber.on("message", (channel, message) => received.push(["message", channel, message]));
    subscriber.on("pmessage", (pattern, channel, message) => {
      received.push(["pmessage", pattern, channel, message]);
      resolve();
    });
  });
  const counts = [await subscriber.subscribe("news", "sport"), await subscriber.psubscribe("ne*")];
  const delivered = await r.publish("news", "hello");
  await got;
  await subscriber.unsubscribe("news");
  return [counts, delivered, received];
});
step("select-db", async (r) => {
  const db3 = await connect({ db: 3 });
  await db3.set("db:key", "three");
  return [await db3.get("db:key"), await r.get("db:key"), await db3.dbsize()];
});
step("key-prefix", async () => {
  const prefixed = await connect({ keyPrefix: "app:" });
  await prefixed.set("k", "v");
  return [await prefixed.get("k"), await prefixed.exists("app:k")];
});
step("auto-pipelining", async () => {
  const auto = await connect({ enableAutoPipelining: true });
  const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => auto.incr(`ap:${i % 7}`)));
  return replies.reduce((a, b) => a + b, 0);
});
step("client-name", async (r) => [
  await r.client("SETNAME", "ioredis-check"),
  await r.client("GETNAME"),
  /(^| )resp=(\d)/.exec(await r.client("INFO"))?.[2],
]);
step("wrong-password", async () => {
  if (password === undefined) {
    return "no password set";
  }
  const wrong = new Redis({ ...base, password: `${password}-wrong` });
  connections.push(wrong);
  const events = [];
  wrong.on("error", (e) => events.push(e.message));
  const outcome = await wrong.connect().then(() => "connected", (e) => ({ error: e.message }));
  return [outcome, events];
});
step("unauthenticated", async () => {
  if (password === undefined) {
    return "no password set";
  }
  const anonymous = new Redis({ ...base, password: undefined, enableReadyCheck: false, protocol: 2 });
  connections.push(anonymous);
  await anonymous.connect();
  return anonymous.get("s:2").catch((e) => e);
});
step("info", async (r) => {
  const info = await r.info("server");
  return [/^redis_version:\d+\.\d+/m.test(info), /^tcp_port:\d+/m.test(info)];
});
step("time", async (r) => {
  const [seconds, micros] = await r.time();
  return [Math.abs(Number(seconds) - Date.now() / 1000) < 60, Number(micros) >= 0 && Number(micros) < 1e6];
});

(async () => {
  let client;
  try {
    client = await within(5000, connect(), "connect");
  } catch (e) {
    console.log(`connect\t${JSON.stringify({ error: e.message })}`);
    process.exit(2);
  }
  for (const { name, run } of steps) {
    let result;
    try {
      result = await within(10000, run(client), name);
    } catch (e) {
      if (String(e.message).startsWith("deadline:")) {
        console.log(`${name}\t${JSON.stringify({ error: e.message })}`);
        process.exit(2);
      }
      result = { error: e.message };
    }
    console.log(`${name}\t${JSON.stringify(plain(result))}`);
  }
  await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
  process.exit(0);
})();
