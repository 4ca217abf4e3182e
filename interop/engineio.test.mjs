// Interop tests: the official engine.io-client against the Go Engine.IO server
// (examples/conformance, an echo server: pingInterval 300 ms, pingTimeout
// 200 ms, maxPayload 1e6).
//
//   cd /work/main && go build -o /tmp/conformance ./examples/conformance
//   cd interop && CONFORMANCE_BIN=/tmp/conformance node --test engineio.test.mjs

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "engine.io-client";
import { binFromEnv, startServer } from "./lib/server.mjs";

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const MAX_PAYLOAD = 1e6;
const TEST_TIMEOUT = 10_000;
const STEP_TIMEOUT = 3_000; // one awaited event

let server;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the event's arguments, or rejects after ms. */
function once(emitter, event, ms = STEP_TIMEOUT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no "${event}" event within ${ms} ms`));
    }, ms);
    const on = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, on);
  });
}

/**
 * Opens an engine.io-client Socket and waits for "open". Every received
 * message is kept in order; take(n) returns the next n. The socket is closed
 * when the test ends.
 */
async function connect(t, opts) {
  const socket = new Socket(server.url, { path: "/engine.io/", ...opts });
  socket.binaryType = "arraybuffer";
  t.after(() => socket.close());

  const inbox = [];
  const waiters = new Set();
  let closed = null;
  const wake = () => waiters.forEach((w) => w());
  socket.on("message", (data) => {
    inbox.push(data);
    wake();
  });
  socket.on("close", (reason, description) => {
    closed = { reason, description };
    wake();
  });
  // A short history of what happened, for failure messages.
  const t0 = Date.now();
  const history = [];
  const note = (what) => history.push(`${what}@${Date.now() - t0}`);
  for (const ev of ["open", "ping", "upgrading", "upgrade", "upgradeError", "close"]) socket.on(ev, () => note(ev));
  socket.on("packetCreate", (p) => note(`send:${p.type}`));
  socket.history = () => history.join(" ");

  socket.take = (n, ms = STEP_TIMEOUT) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (inbox.length >= n) {
          done();
          resolve(inbox.splice(0, n));
        } else if (closed) {
          done();
          reject(
            new Error(
              `socket closed (${closed.reason}) after ${inbox.length} of ${n} messages: ` +
                JSON.stringify(inbox.map(show))
            )
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `got ${inbox.length} of ${n} messages within ${ms} ms: ${JSON.stringify(inbox.map(show))}`
          )
        );
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  socket.closedWith = () => closed;

  // upgraded() resolves once the socket has upgraded, and rejects on
  // upgradeError, on close or after ms.
  let upgrade = null;
  socket.on("upgrade", () => {
    upgrade ??= { ok: true };
    wake();
  });
  socket.on("upgradeError", (err) => {
    upgrade ??= { ok: false, err };
    wake();
  });
  socket.upgraded = (ms = STEP_TIMEOUT) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (upgrade?.ok) {
          done();
          resolve();
        } else if (upgrade || closed) {
          done();
          reject(new Error(upgrade ? `upgradeError: ${upgrade.err?.message ?? upgrade.err}` : `socket closed (${closed.reason}) before upgrading`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no upgrade within ${ms} ms`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no open event within 3 s")), STEP_TIMEOUT);
    socket.once("open", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`connection error: ${err?.message ?? err}`));
    });
  });
  return socket;
}

function show(m) {
  return typeof m === "string" ? (m.length > 40 ? `${m.slice(0, 40)}…(${m.length})` : m) : `<${m?.constructor?.name} ${m?.byteLength}>`;
}

/** Text and binary echo, then several messages sent at once, in order. */
async function checkEcho(socket) {
  socket.send("hello");
  assert.deepEqual(await socket.take(1), ["hello"]);

  socket.send(Uint8Array.from([1, 2, 3, 4]));
  const [bin] = await socket.take(1);
  assert.ok(bin instanceof ArrayBuffer, `binary echo should be an ArrayBuffer, got ${show(bin)}`);
  assert.deepEqual([...new Uint8Array(bin)], [1, 2, 3, 4]);

  const batch = ["a", "b", Uint8Array.from([5, 6]), "c", "d", Uint8Array.from([7]), "é€😀", "f"];
  for (const m of batch) socket.send(m);
  const got = await socket.take(batch.length);
  assert.deepEqual(
    got.map((m) => (typeof m === "string" ? m : [...new Uint8Array(m)])),
    batch.map((m) => (typeof m === "string" ? m : [...m]))
  );
}

/** What a polling GET with that sid gets now: { status, body }. */
async function pollWithSid(sid) {
  const res = await fetch(`${server.url}/engine.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
    signal: AbortSignal.timeout(2_000),
  });
  return { status: res.status, body: await res.text() };
}

const UNKNOWN_SID = { status: 400, body: JSON.stringify({ code: 1, message: "Session ID unknown" }) };

/**
 * Opens a socket, closes it from the client right after a ping and checks
 * that the server forgot the session. Returns how long after the close the
 * check confirmed it.
 */
async function closeAndCheck(t, transports) {
  const socket = await connect(t, { transports });
  const sid = socket.id;
  assert.equal(typeof sid, "string");
  const steps = [];
  const why = () => `${transports}: ${steps.join(", ")}; client: ${socket.history()}`;
  // Close just after a ping has been answered, so that the server's next
  // ping timeout is as far away as it can be.
  await once(socket, "ping").catch((err) => assert.fail(`${err.message} (${socket.history()})`));
  const transport = socket.transport;
  const closing = once(socket, "close");
  const closedAt = Date.now();
  const step = (what) => steps.push(`${what} at +${Date.now() - closedAt} ms`);
  socket.close();
  const [reason] = await closing;
  step("close event");
  assert.equal(reason, "forced close");

  let last;
  if (transports[0] === "polling") {
    // Wait for the POST carrying the close packet to be answered. Had the
    // server ignored it, the client's pending GET would still be there and
    // our GET below would be refused as a duplicate poll (code 3).
    const deadline = Date.now() + 1_000;
    while (!transport.writable && Date.now() < deadline) await sleep(2);
    step(`close POST answered: ${transport.writable}`);
    assert.ok(transport.writable, `the close packet's POST was not answered within 1 s (${why()})`);
    last = await pollWithSid(sid);
    step(`GET ${last.status} ${last.body}`);
  } else {
    // A polling GET on a WebSocket session is refused (code 3) while the
    // session lives; once it is gone the sid is unknown (code 1).
    const deadline = Date.now() + 1_000;
    do {
      if (last) await sleep(10);
      last = await pollWithSid(sid);
      step(`GET ${last.status} ${last.body}`);
    } while (last.body !== UNKNOWN_SID.body && Date.now() < deadline);
  }
  assert.deepEqual(last, UNKNOWN_SID, why());
  return Date.now() - closedAt;
}

describe("engine.io-client 6.6 against the Go Engine.IO server", () => {
  before(async () => {
    const bin = binFromEnv(
      "CONFORMANCE_BIN",
      "`go build -o /tmp/conformance ./examples/conformance` then CONFORMANCE_BIN=/tmp/conformance"
    );
    server = await startServer(bin);
  });

  after(async () => {
    await server?.stop();
  });

  test("polling only: echoes text, binary and batches in order", { timeout: TEST_TIMEOUT }, async (t) => {
    const socket = await connect(t, { transports: ["polling"] });
    assert.equal(socket.transport.name, "polling");
    await checkEcho(socket);
    assert.equal(socket.transport.name, "polling");
  });

  test("websocket only: echoes text, binary and batches in order", { timeout: TEST_TIMEOUT }, async (t) => {
    const socket = await connect(t, { transports: ["websocket"] });
    assert.equal(socket.transport.name, "websocket");
    await checkEcho(socket);
  });

  test("polling upgrades to websocket, then echoes", { timeout: TEST_TIMEOUT }, async (t) => {
    const socket = await connect(t, { transports: ["polling", "websocket"] });
    assert.equal(socket.transport.name, "polling", "the session should start over polling");
    await socket.upgraded();
    assert.equal(socket.transport.name, "websocket");
    await checkEcho(socket);
    assert.equal(socket.transport.name, "websocket");
  });

  test("messages sent during the upgrade all come back in order", { timeout: TEST_TIMEOUT }, async (t) => {
    // "burst": all 50 sent synchronously on open (they leave over polling
    // while the probe runs). "spread": one per timer tick from open on, so
    // that some leave over polling, some while the client has paused polling
    // for the upgrade (buffered, flushed over the WebSocket) and the rest
    // over the WebSocket.
    for (const mode of ["burst", "spread"]) {
      const socket = new Socket(server.url, { path: "/engine.io/", transports: ["polling", "websocket"], upgrade: true });
      t.after(() => socket.close());
      const received = [];
      socket.on("message", (m) => received.push(m));
      let closed = null;
      socket.on("close", (reason) => (closed = reason));
      const upgraded = once(socket, "upgrade");
      const sent = [];
      const sentOver = {}; // transport (* = upgrading) at send time, for failure messages
      const sendOne = () => {
        const over = socket.transport.name + (socket.upgrading ? "*" : "");
        sentOver[over] = (sentOver[over] ?? 0) + 1;
        const m = `msg-${sent.length}`;
        sent.push(m);
        socket.send(m);
      };
      socket.once("open", () => {
        if (mode === "burst") {
          while (sent.length < 50) sendOne();
        } else {
          const tick = () => {
            sendOne();
            if (sent.length < 50 && !closed) setTimeout(tick, 0);
          };
          tick();
        }
      });
      await upgraded;
      assert.equal(socket.transport.name, "websocket");
      const deadline = Date.now() + STEP_TIMEOUT;
      while ((sent.length < 50 || received.length < 50) && !closed && Date.now() < deadline) await sleep(10);
      await sleep(50); // nothing extra may follow
      assert.equal(closed, null, `${mode}: socket closed (${closed})`);
      assert.equal(sent.length, 50);
      assert.deepEqual(received, sent, `${mode}: sent over ${JSON.stringify(sentOver)}`);
      socket.close();
    }
  });

  test("heartbeat keeps the connection open over several ping intervals", { timeout: TEST_TIMEOUT }, async (t) => {
    for (const transports of [["polling"], ["websocket"]]) {
      const socket = await connect(t, { transports });
      let pings = 0;
      socket.on("ping", () => pings++);
      await sleep(1_500);
      assert.equal(socket.closedWith(), null, `${transports}: closed during the wait`);
      assert.equal(socket.readyState, "open");
      // 1.5 s is five ping intervals; the client's own ping timeout
      // (interval + timeout = 500 ms) would have closed it had pings stopped.
      assert.ok(pings >= 3, `${transports}: expected at least 3 pings in 1.5 s, got ${pings}`);
      socket.send("still here");
      assert.deepEqual(await socket.take(1), ["still here"]);
      socket.close();
    }
  });

  test("closing from the client ends the server-side session", { timeout: TEST_TIMEOUT }, async (t) => {
    // The server also drops a session that stops answering pings, 500 ms
    // after its last pong at the earliest. A session found gone sooner than
    // that after the client's close was ended by the close; a check that
    // took longer (a loaded machine) proves nothing and is tried again.
    const conclusiveWithin = PING_INTERVAL + PING_TIMEOUT - 50;
    for (const transports of [["polling"], ["websocket"]]) {
      const attempts = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        const elapsed = await closeAndCheck(t, transports);
        if (elapsed < conclusiveWithin) break;
        attempts.push(elapsed);
      }
      assert.ok(
        attempts.length < 3,
        `${transports}: the session was found gone only ${attempts.join(", ")} ms after the close, ` +
          `too late (>= ${conclusiveWithin} ms) to tell the close from a ping timeout`
      );
    }
  });

  test("a message over maxPayload closes that websocket client only", { timeout: TEST_TIMEOUT }, async (t) => {
    const big = await connect(t, { transports: ["websocket"] });
    const other = await connect(t, { transports: ["websocket"] });
    const otherPolling = await connect(t, { transports: ["polling"] });

    // All three echo before.
    for (const s of [big, other, otherPolling]) s.send("before");
    for (const s of [big, other, otherPolling]) assert.deepEqual(await s.take(1), ["before"]);

    const closing = once(big, "close");
    big.send("x".repeat(MAX_PAYLOAD + 1)); // packet "4xxx…": 1e6 + 2 bytes
    // Meanwhile the others keep echoing.
    other.send("during");
    otherPolling.send("during");
    const [reason] = await closing;
    assert.equal(reason, "transport close");
    assert.equal(big.readyState, "closed");
    assert.deepEqual(await other.take(1), ["during"]);
    assert.deepEqual(await otherPolling.take(1), ["during"]);

    other.send("after");
    otherPolling.send("after");
    assert.deepEqual(await other.take(1), ["after"]);
    assert.deepEqual(await otherPolling.take(1), ["after"]);
    assert.equal(other.readyState, "open");
    assert.equal(otherPolling.readyState, "open");
  });
});
