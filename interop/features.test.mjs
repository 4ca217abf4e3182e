// Interop tests of server-side semantics that the reference app does not
// cover, checked with the official socket.io-client (4.8.x) against the Go
// app in interop/features (package main), over WebSocket only, HTTP
// long-polling only, and the default (polling, then upgrade to WebSocket):
// catch-all handler order, per-event middlewares, server-to-client acks,
// server-side disconnection, reserved event names, the handshake, socket data
// with FetchSockets, handler panics, a namespace middleware's plain error, a
// dynamic namespace by function and a volatile emit.
//
//   cd /work/main && go build -o /tmp/features ./interop/features
//   cd interop && FEATURES_BIN=/tmp/features node --test features.test.mjs
//
// Without FEATURES_BIN the test builds the app itself (`go build` from the
// repository root, into a temporary directory) and says so in its output.
//
// All tests run concurrently against one server; each uses its own names.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { io, Manager } from "socket.io-client";
import { binFromEnv, startServer } from "./lib/server.mjs";

const TEST_TIMEOUT = 10_000;
const BUILD_TIMEOUT = 180_000;
const STEP = 3_000; // one awaited event or ack
const NEG_WAIT = 250; // how long a socket must stay silent to count as "not reached"
const ASK_TIMEOUT = 1_000; // the server's Timeout on "question" (interop/features)

const TRANSPORTS = [
  { name: "websocket", opts: { transports: ["websocket"] }, expect: "websocket", first: "websocket" },
  { name: "polling", opts: { transports: ["polling"] }, expect: "polling", first: "polling" },
  { name: "polling+upgrade", opts: {}, expect: "websocket", first: "polling", upgrade: true },
];

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

let server;
let buildDir;

before(
  async () => {
    let bin;
    if (process.env.FEATURES_BIN) {
      bin = binFromEnv("FEATURES_BIN");
    } else {
      buildDir = await mkdtemp(join(tmpdir(), "roomcast-features-"));
      bin = join(buildDir, "features");
      console.log(`FEATURES_BIN is not set: building ./interop/features into ${bin} (go build, from ${REPO_ROOT})`);
      try {
        await promisify(execFile)("go", ["build", "-o", bin, "./interop/features"], {
          cwd: REPO_ROOT,
          timeout: BUILD_TIMEOUT,
        });
      } catch (err) {
        throw new Error(`go build ./interop/features failed: ${err.message}\n${err.stderr ?? ""}`);
      }
      console.log(`built ${bin}`);
    }
    server = await startServer(bin);
  },
  { timeout: BUILD_TIMEOUT + 30_000 }
);

after(async () => {
  await server?.stop();
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let seq = 0;
/** A name unique to this run. */
const uid = (prefix = "x") => `${prefix}-${++seq}-${randomBytes(3).toString("hex")}`;

/** Resolves with the arguments of the next `event`, or rejects after ms. */
function once(emitter, event, ms = STEP) {
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

/** Resolves once the socket is connected; rejects with its connect error. */
function connected(socket, ms = STEP) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${socket.nsp} not connected within ${ms} ms`)), ms);
    const onConnect = () => done(null);
    const onError = (err) => done(new Error(`${socket.nsp} connect_error: ${err.message}`));
    const done = (err) => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
      err ? reject(err) : resolve(socket);
    };
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

/** Resolves with the connect_error of a socket that must not connect. */
function connectError(socket, ms = STEP) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect_error within ${ms} ms`)), ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      reject(new Error(`connected to ${socket.nsp}, expected a connect_error`));
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

/** Emits an event with an ack and resolves with the ack's first argument. */
function ack(socket, event, ...args) {
  return socket.timeout(STEP).emitWithAck(event, ...args);
}

/** Waits until the socket's Engine.IO connection runs over WebSocket. */
async function upgraded(socket) {
  const engine = socket.io.engine;
  if (engine.transport.name !== "websocket") await once(engine, "upgrade", STEP);
  assert.equal(engine.transport.name, "websocket");
}

/** Records every "disconnect" reason of socket. */
function disconnects(socket) {
  const reasons = [];
  socket.on("disconnect", (reason) => reasons.push(reason));
  return reasons;
}

/**
 * Per-test client factory: every socket and manager it opens is closed when
 * the test ends, passed or not.
 */
function clients(t, tr) {
  const sockets = [];
  const managers = [];
  t.after(() => {
    for (const s of sockets) s.disconnect();
    for (const m of managers) m.engine?.close();
  });
  const base = { reconnection: false, ...tr.opts };
  return {
    /** A socket of its own connection, not yet connected. */
    open(nsp = "/", opts = {}) {
      const s = io(server.url + nsp, { forceNew: true, ...base, ...opts });
      sockets.push(s);
      managers.push(s.io);
      return s;
    },
    /** A connected socket of its own connection (upgraded, for the default transports). */
    async connect(nsp = "/", opts = {}) {
      const s = this.open(nsp, opts);
      await connected(s);
      if (tr.upgrade) await upgraded(s);
      return s;
    },
    /** A Manager whose sockets share one connection. */
    manager(opts = {}) {
      const m = new Manager(server.url, { ...base, ...opts });
      managers.push(m);
      const socket = m.socket.bind(m);
      m.socket = (nsp, sopts) => {
        const s = socket(nsp, sopts);
        sockets.push(s);
        return s;
      };
      return m;
    },
    /** connect() for sockets created elsewhere (e.g. by a Manager). */
    async ready(...list) {
      await Promise.all(list.map((s) => connected(s)));
      if (tr.upgrade) await Promise.all(list.map((s) => upgraded(s)));
      return list;
    },
  };
}

// ---------------------------------------------------------------- tests

describe("socket.io-client against interop/features", { concurrency: true }, () => {
  for (const tr of TRANSPORTS) {
    describe(`transports: ${tr.name}`, { concurrency: true }, () => {
      const T = { timeout: TEST_TIMEOUT };

      it("runs over the expected transport", T, async (t) => {
        const c = clients(t, tr);
        const s = c.open("/");
        let first;
        s.io.once("open", () => (first = s.io.engine.transport.name));
        await c.ready(s);
        assert.equal(first, tr.first, "transport at open");
        assert.equal(s.io.engine.transport.name, tr.expect, "transport in use");
        assert.equal(await ack(s, "echo", "ok"), "ok");
      });

      it("1. catch-all order: prependAny, then onAny, then the named handler", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        assert.equal(await ack(s, "ping"), "pong");
        assert.deepEqual(await ack(s, "log"), [
          "first:ping",
          "any:ping",
          "named:ping",
          "first:log",
          "any:log",
        ]);
      });

      it("2. a per-event middleware refuses an event: ack {message}, named handler not run", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        assert.deepEqual(await ack(s, "forbidden"), { message: "forbidden event" });
        // Without an ack as well: dropped all the same.
        s.emit("forbidden");
        const log = await ack(s, "log");
        assert.ok(!log.includes("named:forbidden"), `the named handler ran: ${JSON.stringify(log)}`);
        // Catch-all handlers run before the middlewares, as in the Node.js server.
        assert.deepEqual(log, [
          "first:forbidden",
          "any:forbidden",
          "first:forbidden",
          "any:forbidden",
          "first:log",
          "any:log",
        ]);
        assert.equal(await ack(s, "echo", "after"), "after", "the socket still works");
      });

      it("3a. server-to-client ack: the client's answer comes back", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        const questions = [];
        s.on("question", (q, cb) => {
          questions.push(q);
          cb("42");
        });
        assert.equal(await ack(s, "ask-me"), "42");
        assert.deepEqual(questions, ["what?"]);
      });

      it("3b. server-to-client ack: a client that does not answer times out", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        const questions = [];
        s.on("question", (q) => questions.push(q)); // no ack
        const t0 = Date.now();
        assert.deepEqual(await ack(s, "ask-me"), { error: "operation has timed out" });
        const elapsed = Date.now() - t0;
        assert.ok(elapsed >= ASK_TIMEOUT - 100, `timed out after ${elapsed} ms, expected about ${ASK_TIMEOUT}`);
        assert.deepEqual(questions, ["what?"]);
        assert.equal(await ack(s, "echo", "after"), "after", "the socket still works");
      });

      it("3c. server-to-client ack: a binary answer arrives byte for byte (its length)", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        const answer = randomBytes(3000);
        s.on("question", (q, cb) => cb(answer));
        assert.deepEqual(await ack(s, "ask-me"), { binaryLength: answer.length });
      });

      it("4. Disconnect(false) leaves the other namespace connected; Disconnect(true) closes both", T, async (t) => {
        const c = clients(t, tr);
        const m = c.manager();
        const main = m.socket("/");
        const other = m.socket("/other");
        await c.ready(main, other);
        const engine = m.engine;
        const mainReasons = disconnects(main);
        const otherReasons = disconnects(other);

        // The client emits "disconnect" with (reason, description): compare the reason.
        const reason = (socket) => once(socket, "disconnect").then(([r]) => r);
        const kicked = reason(main);
        main.emit("kick-me");
        assert.equal(await kicked, "io server disconnect");
        await sleep(NEG_WAIT);
        assert.deepEqual(otherReasons, [], "/other must stay connected");
        assert.equal(other.connected, true);
        assert.equal(m.engine, engine, "same Engine.IO connection");
        assert.equal(engine.readyState, "open");
        assert.equal(await ack(other, "echo", "still here"), "still here");

        // Back on "/" over the same connection, then close it all.
        main.connect();
        await connected(main);
        assert.equal(m.engine, engine, "reconnected over the same Engine.IO connection");
        assert.equal(await ack(main, "echo", "back"), "back");
        const both = Promise.all([reason(main), reason(other)]);
        main.emit("kick-all");
        assert.deepEqual(await both, ["io server disconnect", "io server disconnect"]);
        assert.deepEqual(mainReasons, ["io server disconnect", "io server disconnect"]);
        assert.deepEqual(otherReasons, ["io server disconnect"]);
      });

      it("5. emitting a reserved event name fails", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        const texts = await ack(s, "emit-reserved");
        assert.equal(texts.length, 2);
        texts.forEach((text, i) => {
          assert.equal(typeof text, "string");
          assert.ok(text.length > 0, `emit #${i} did not fail`);
          assert.match(text, /reserved/i);
        });
        assert.equal(s.connected, true);
        assert.equal(await ack(s, "echo", "ok"), "ok");
      });

      it("6. the handshake: headers, query, auth, address, url, time", T, async (t) => {
        const c = clients(t, tr);
        const auth = { token: uid("tok"), n: 1.5, nested: { list: [1, "two", null], ok: true } };
        const t0 = Date.now();
        const s = await c.connect("/", { auth });
        const h = await ack(s, "handshake");
        assert.equal(typeof h.headers, "object");
        assert.equal(h.headers.host, `127.0.0.1:${server.port}`);
        assert.equal(h.query.EIO, "4");
        assert.equal(h.query.transport, tr.first);
        assert.deepEqual(h.auth, auth);
        assert.ok(["127.0.0.1", "::ffff:127.0.0.1", "::1"].includes(h.address), `address ${h.address}`);
        assert.equal(h.secure, false);
        assert.equal(typeof h.xdomain, "boolean");
        assert.equal(typeof h.url, "string");
        assert.ok(h.url.startsWith("/socket.io/"), `url ${h.url}`);
        assert.equal(typeof h.time, "string");
        assert.ok(h.time.length > 0, "time is empty");
        assert.equal(typeof h.issued, "number");
        assert.ok(h.issued >= t0 - 1000 && h.issued <= Date.now() + 1000, `issued ${h.issued}, test started at ${t0}`);
      });

      it("6b. the handshake auth is {} when the client sends none", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        const h = await ack(s, "handshake");
        assert.deepEqual(h.auth, {});
      });

      it("7. socket data and FetchSockets: sorted names of the sockets", T, async (t) => {
        const c = clients(t, tr);
        const prefix = uid("name");
        const [a, b, d, unnamed] = await Promise.all([c.connect("/"), c.connect("/"), c.connect("/"), c.connect("/")]);
        assert.equal(await ack(a, "set-name", `${prefix}-c`), true);
        assert.equal(await ack(b, "set-name", `${prefix}-a`), true);
        assert.equal(await ack(d, "set-name", `${prefix}-b`), true);
        const mine = (names) => names.filter((n) => n.startsWith(`${prefix}-`));

        const names = await ack(unnamed, "names");
        assert.ok(Array.isArray(names));
        assert.deepEqual(names, [...names].sort(), "names are sorted");
        assert.deepEqual(mine(names), [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);

        // A disconnected socket is no longer fetched.
        b.disconnect();
        const deadline = Date.now() + STEP;
        let left;
        do {
          left = mine(await ack(a, "names"));
          if (left.length === 2) break;
          await sleep(50);
        } while (Date.now() < deadline);
        assert.deepEqual(left, [`${prefix}-b`, `${prefix}-c`]);
      });

      it("8. a handler panic is recovered: the socket keeps working", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        const id = s.id;
        const reasons = disconnects(s);
        s.emit("panic");
        const x = { tag: uid("p"), list: [1, 2, 3] };
        assert.deepEqual(await ack(s, "echo", x), x);
        s.emit("panic");
        s.emit("panic");
        assert.deepEqual(await ack(s, "echo", "again"), "again");
        assert.equal(s.connected, true);
        assert.equal(s.id, id);
        assert.deepEqual(reasons, []);
      });

      it("9. a namespace middleware's plain error: connect_error with its text, no data", T, async (t) => {
        const c = clients(t, tr);
        const s = c.open("/plain");
        const err = await connectError(s);
        assert.equal(err.message, "plain refusal");
        assert.equal(err.data, undefined);
        assert.equal(s.connected, false);
      });

      it("10. a dynamic namespace by function admits only auth.tier gold", T, async (t) => {
        const c = clients(t, tr);
        const silver = c.open("/vip", { auth: { tier: "silver" } });
        const none = c.open("/vip");
        const [e1, e2] = await Promise.all([connectError(silver), connectError(none)]);
        assert.equal(e1.message, "Invalid namespace");
        assert.equal(e2.message, "Invalid namespace");
        const gold = await c.connect("/vip", { auth: { tier: "gold" } });
        assert.equal(await ack(gold, "nsp"), "/vip");
        assert.equal(await ack(gold, "echo", "vip"), "vip");
      });

      // Over polling a volatile packet is dropped unless a GET is pending at
      // that very moment (the server's documented rule, as in Node.js), so
      // whether it arrives is a race: the test runs over WebSocket only, and
      // is reported as skipped for the polling and default settings.
      it(
        "11. a volatile emit to an idle connected socket arrives",
        { ...T, skip: tr.name === "websocket" ? false : "volatile delivery over polling depends on a pending GET; checked over websocket only" },
        async (t) => {
          const c = clients(t, tr);
          const s = await c.connect("/");
          for (let i = 0; i < 5; i++) {
            const got = once(s, "v");
            s.emit("volatile-me");
            assert.deepEqual(await got, [1], `volatile emit #${i}`);
          }
        }
      );
    });
  }
});
