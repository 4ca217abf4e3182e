// Helpers of the mixed-cluster tests: a Redis of their own, the Go and
// Node.js servers, the Go emitter, clients.

import { execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createClient } from "redis";
import { io } from "socket.io-client";
import { freePort, startServer } from "../lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const run = promisify(execFile);

export const STEP = 3000; // one awaited event or ack
export const NEG_WAIT = 300; // how long a socket must stay silent to count as "not reached"

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether a command can be run (for skipping when redis-server is missing). */
export async function have(cmd, args = ["--version"]) {
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts redis-server on a free port, with no persistence, and returns
 * { url, port, client, kill(), start(), stop() }: kill() SIGKILLs it, start()
 * starts it again on the same port, stop() ends it for good.
 */
export async function startRedis() {
  const port = await freePort();
  let proc;
  const start = async () => {
    proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    const exited = new Promise((r) => proc.once("exit", r));
    proc.exited = exited;
    const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
    c.on("error", () => {});
    for (let i = 0; ; i++) {
      try {
        await c.connect();
        await c.ping();
        await c.quit();
        return;
      } catch (err) {
        if (i > 100) throw new Error(`redis-server on ${port} did not start: ${err.message}`);
        await sleep(50);
      }
    }
  };
  await start();
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  client.on("error", () => {});
  await client.connect();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client,
    start,
    async kill() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
    async stop() {
      await client.quit().catch(() => {});
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/**
 * Waits until n servers listen to each namespace: to its request channel
 * (classic adapter), or its main channel (sharded adapter).
 */
export async function waitServers(redis, n, nsps = ["/"], adapter = "classic") {
  for (const nsp of nsps) {
    await waitSubscribers(redis, adapter, adapter === "sharded" ? `socket.io#${nsp}#` : `socket.io-request#${nsp}#`, n);
  }
}

/**
 * With the sharded adapter, waits until n servers listen to the channel
 * of a room of nsp (they subscribe once they have a member in it, and a
 * broadcast published before reaches only those that already do).
 */
export async function waitRoom(redis, adapter, room, n, nsp = "/") {
  if (adapter === "sharded") await waitSubscribers(redis, adapter, `socket.io#${nsp}#${room}#`, n);
}

async function waitSubscribers(redis, adapter, ch, n) {
  const cmd = adapter === "sharded" ? "SHARDNUMSUB" : "NUMSUB";
  const deadline = Date.now() + 10_000;
  for (;;) {
    const count = Number((await redis.client.sendCommand(["PUBSUB", cmd, ch]))[1]);
    if (count === n) return;
    if (Date.now() > deadline) throw new Error(`${count} servers on ${ch}, want ${n}`);
    await sleep(20);
  }
}

let built;
/** Builds (once) the Go binaries the tests need, unless given by env. */
export async function goBinaries() {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "rc-cluster-"));
    const out = {
      reference: process.env.REFERENCE_BIN,
      goemitter: process.env.GOEMITTER_BIN,
    };
    if (!out.reference) {
      out.reference = join(dir, "reference");
      await run("go", ["build", "-o", out.reference, "./examples/reference"], { cwd: repo });
    }
    if (!out.goemitter) {
      out.goemitter = join(dir, "goemitter");
      await run("go", ["build", "-o", out.goemitter, "./interop/cluster/goemitter"], { cwd: repo });
    }
    return out;
  })();
  return built;
}

/** Starts examples/reference with the Redis adapter ("classic" or "sharded"). */
export async function startGo(redisUrl, adapter = "classic") {
  const { reference } = await goBinaries();
  return { kind: "go", ...(await startServer(reference, { REDIS_URL: redisUrl, REDIS_ADAPTER: adapter })) };
}

/** Starts the Node.js bench app (bench/node) with the Redis adapter ("classic" or "sharded"). */
export async function startNode(redisUrl, adapter = "classic") {
  const app = [process.execPath, join(repo, "bench", "node", "app.mjs")];
  return { kind: "node", ...(await startServer(app, { REDIS_URL: redisUrl, REDIS_ADAPTER: adapter })) };
}

/** Runs the Go emitter with a command (see goemitter/main.go). */
export async function goEmit(redisUrl, cmd) {
  const { goemitter } = await goBinaries();
  await run(goemitter, [JSON.stringify({ redis: redisUrl, ...cmd })]);
}

/**
 * Connects a socket.io-client socket over WebSocket. Its "ask" handler
 * answers with the socket's id, or a Buffer [1, 2, 3] when the payload is "bin".
 */
export async function connect(server, nsp = "/", auth = {}) {
  const socket = io(server.url + nsp, { transports: ["websocket"], forceNew: true, reconnection: false, auth });
  socket.on("ask", (payload, ack) => ack(payload === "bin" ? Buffer.from([1, 2, 3]) : socket.id));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not connected to ${server.url}${nsp}`)), STEP);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return socket;
}

/** Resolves with the arguments of the next `event`, or rejects after ms. */
export function once(socket, event, ms = STEP) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`${socket.id}: no "${event}" within ${ms} ms`));
    }, ms);
    const on = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    socket.once(event, on);
  });
}

/** Rejects if `event` arrives within ms. */
export function none(socket, event, ms = NEG_WAIT) {
  return new Promise((resolve, reject) => {
    const on = (...args) => {
      clearTimeout(timer);
      reject(new Error(`${socket.id}: unexpected "${event}" ${JSON.stringify(args)}`));
    };
    const timer = setTimeout(() => {
      socket.off(event, on);
      resolve();
    }, ms);
    socket.once(event, on);
  });
}

/** Emits with an ack and resolves with the ack's arguments. */
export function call(socket, event, ...args) {
  return socket.timeout(STEP + 2000).emitWithAck(event, ...args);
}

/** Polls fn until it returns true. */
export async function until(fn, what, ms = STEP) {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
