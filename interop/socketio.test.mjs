// Interop tests: the official socket.io-client (4.8.x) against the reference
// app of shared/bench/BENCH-APP.md (examples/reference), over WebSocket only,
// HTTP long-polling only, and the default (polling, then upgrade to WebSocket).
//
//   cd /work/main && go build -o /tmp/reference ./examples/reference
//   cd interop && REFERENCE_BIN=/tmp/reference node --test socketio.test.mjs
//
// REFERENCE_BIN may also name a .mjs/.js file, run with node (e.g. a Node.js
// implementation of the bench app on the official socket.io server, to check
// what the expectations of this file are based on).
//
// All tests run concurrently against one server. Each test uses its own room
// names and tags its payloads, and every collector keeps only the events of
// its own test, so that broadcasts of other tests (broadcast-all, observers)
// cannot disturb it.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { io, Manager } from "socket.io-client";
import { binFromEnv, startServer } from "./lib/server.mjs";

const TEST_TIMEOUT = 10_000;
const STEP = 3_000; // one awaited event or ack
const NEG_WAIT = 250; // how long a socket must stay silent to count as "not reached"
const ASK_TIMEOUT = 2_000; // server side timeout of "ask"

const TRANSPORTS = [
  { name: "websocket", opts: { transports: ["websocket"] }, expect: "websocket" },
  { name: "polling", opts: { transports: ["polling"] }, expect: "polling" },
  { name: "polling+upgrade", opts: {}, expect: "websocket", upgrade: true },
];

let server;

before(async () => {
  const js = process.env.REFERENCE_BIN ?? "";
  server = await startServer(
    /\.[cm]?js$/.test(js)
      ? [process.execPath, js]
      : binFromEnv(
          "REFERENCE_BIN",
          "`go build -o /tmp/reference ./examples/reference` then REFERENCE_BIN=/tmp/reference"
        )
  );
});

after(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------- helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let seq = 0;
/** A name unique to this run: rooms, tags. */
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
    const timer = setTimeout(() => done(new Error(`not connected within ${ms} ms`)), ms);
    const onConnect = () => done(null);
    const onError = (err) => done(new Error(`connect_error: ${err.message}`));
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

/**
 * Keeps, in order, the arguments of every `event` received by socket that
 * pass filter. wait(n) resolves once n of them have arrived.
 */
function inbox(socket, event, filter = () => true) {
  const items = [];
  let waiters = [];
  socket.on(event, (...args) => {
    if (!filter(...args)) return;
    items.push(args);
    waiters = waiters.filter((w) => !w());
  });
  return {
    items,
    wait(n, ms = STEP) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (items.length < n) return false;
          clearTimeout(timer);
          resolve(items);
          return true;
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== check);
          reject(new Error(`${socket.nsp} got ${items.length} "${event}" events of this test within ${ms} ms, expected ${n}`));
        }, ms);
        if (!check()) waiters.push(check);
      });
    },
  };
}

/** Filter for payloads that carry this test's tag, or that are binary. */
const tagged = (tag) => (p) => isBinary(p) || (p !== null && typeof p === "object" && p.tag === tag);

function isBinary(x) {
  return Buffer.isBuffer(x) || x instanceof ArrayBuffer || ArrayBuffer.isView(x);
}

/** Turns every byte array in x (Buffer, ArrayBuffer, typed array) into a Buffer. */
function normalize(x) {
  if (Buffer.isBuffer(x)) return Buffer.from(x);
  if (x instanceof ArrayBuffer) return Buffer.from(new Uint8Array(x));
  if (ArrayBuffer.isView(x)) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  if (Array.isArray(x)) return x.map(normalize);
  if (x !== null && typeof x === "object") {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, normalize(v)]));
  }
  return x;
}

/** Asserts that each socket got exactly the expected msgs, after NEG_WAIT of quiet. */
async function expectMsgs(boxes, expected) {
  await Promise.all(boxes.map((b, i) => b.wait(expected[i].length)));
  await sleep(NEG_WAIT);
  boxes.forEach((b, i) =>
    assert.deepEqual(
      b.items.map((args) => normalize(args[0])),
      expected[i].map(normalize),
      `receiver #${i}`
    )
  );
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

const JSON_PAYLOADS = [
  ["nested objects", { a: { b: { c: { d: [1, { e: [true, false, null] }] } } }, f: [] , g: {} }],
  ["unicode", { s: "héllo wörld — 你好, мир — 🎉🚀👩‍👩‍👧 — \u0000\u001f\u2028\u2029 \"q\" \\ /\n\t", "ключ": "значение", "🔑": "ü" }],
  ["numbers", { n: [0, 1, -1, 1.5, -2.25, 3.141592653589793, 1e21, 1.5e-7, 2 ** 53 - 1, -(2 ** 53 - 1), 123456789.125] }],
  ["number 1.5", 1.5],
  ["integer", 42],
  ["string", "plain string"],
  ["empty string", ""],
  ["true", true],
  ["false", false],
  ["null", null],
  ["empty array", []],
  ["empty object", {}],
  ["mixed array", [1, "two", [3, [4, { five: 5 }]], null]],
  ["load generator object", { t: 123456789012345, seq: 7, pad: "x".repeat(1000) }],
  ["100 kB string", { pad: "y".repeat(100_000) }],
];

function binaryPayloads() {
  const bytes = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) bytes[i] = i;
  return [
    ["Buffer 0..255", bytes],
    ["Uint8Array 64 kB random", new Uint8Array(randomBytes(65536))],
    ["object with binary fields", { name: "file", data: Buffer.from([1, 2, 3]), parts: [Buffer.from("ab"), { deep: new Uint8Array([0, 255]) }] }],
  ];
}

// ---------------------------------------------------------------- tests

describe("socket.io-client against the reference app", { concurrency: true }, () => {
  for (const tr of TRANSPORTS) {
    describe(`transports: ${tr.name}`, { concurrency: true }, () => {
      const T = { timeout: TEST_TIMEOUT };

      it("runs over the expected transport", T, async (t) => {
        const c = clients(t, tr);
        const s = c.open("/");
        let first;
        s.io.once("open", () => (first = s.io.engine.transport.name));
        await c.ready(s);
        assert.equal(first, tr.upgrade ? "polling" : tr.expect, "transport at open");
        await sleep(300);
        assert.equal(s.io.engine.transport.name, tr.expect, "transport in use");
        assert.equal(await ack(s, "echo", "ok"), "ok");
      });

      it("connect with auth {room} joins that room; without auth no extra room", T, async (t) => {
        const c = clients(t, tr);
        const r1 = uid("r1");
        const tag = uid("tag");
        const [a, b, sender] = await Promise.all([
          c.connect("/", { auth: { room: r1 } }),
          c.connect("/"),
          c.connect("/"),
        ]);
        sortedRooms(await ack(a, "rooms"), [a.id, r1]);
        assert.deepEqual(await ack(b, "rooms"), [b.id]);
        assert.equal(await ack(sender, "count", r1), 1);
        const boxes = [a, b, sender].map((s) => inbox(s, "msg", tagged(tag)));
        sender.emit("broadcast", r1, { tag, hi: 1 });
        await expectMsgs(boxes, [[{ tag, hi: 1 }], [], []]);
      });

      it("join/leave ack true; rooms lists the own id plus the rooms", T, async (t) => {
        const c = clients(t, tr);
        const [x, y] = [uid("j"), uid("j")];
        const s = await c.connect("/");
        assert.deepEqual(await ack(s, "rooms"), [s.id]);
        assert.equal(await ack(s, "join", x), true);
        assert.equal(await ack(s, "join", y), true);
        assert.equal(await ack(s, "join", y), true); // joining twice is harmless
        assert.deepEqual([...(await ack(s, "rooms"))].sort(), [s.id, x, y].sort());
        assert.equal(await ack(s, "count", y), 1);
        assert.equal(await ack(s, "leave", x), true);
        assert.deepEqual([...(await ack(s, "rooms"))].sort(), [s.id, y].sort());
        assert.equal(await ack(s, "count", x), 0);
        assert.equal(await ack(s, "leave", x), true); // leaving a room not joined
        assert.equal(await ack(s, "leave", y), true);
        assert.deepEqual(await ack(s, "rooms"), [s.id]);
      });

      it("echo returns JSON payloads unchanged", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        const got = await Promise.all(JSON_PAYLOADS.map(([, p]) => ack(s, "echo", p)));
        const mismatches = JSON_PAYLOADS.filter(([, p], i) => {
          try {
            assert.deepEqual(got[i], p);
            return false;
          } catch {
            return true;
          }
        }).map(([label]) => label);
        assert.deepEqual(mismatches, [], "payloads that did not round-trip");
      });

      it("echo returns binary payloads byte for byte", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        for (const [label, p] of binaryPayloads()) {
          const got = await ack(s, "echo", p);
          if (isBinary(p)) assert.ok(isBinary(got), `${label}: ack is not binary: ${typeof got}`);
          assert.deepEqual(normalize(got), normalize(p), label);
        }
      });

      it("broadcast reaches every room member once, the sender too; not non-members", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const tag = uid("tag");
        const [a, b, sender, outsider, benchSameRoom] = await Promise.all([
          c.connect("/", { auth: { room } }),
          c.connect("/", { auth: { room } }),
          c.connect("/", { auth: { room } }),
          c.connect("/", { auth: { room: uid("other") } }),
          c.connect("/bench", { auth: { room } }),
        ]);
        const boxes = [a, b, sender, outsider, benchSameRoom].map((s) => inbox(s, "msg", tagged(tag)));
        const p = { tag, n: 1, s: "ü🎉", f: 1.5 };
        sender.emit("broadcast", room, p);
        await expectMsgs(boxes, [[p], [p], [p], [], []]);
      });

      it("broadcast of a binary payload reaches members byte for byte", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const [a, sender, outsider] = await Promise.all([
          c.connect("/", { auth: { room } }),
          c.connect("/"),
          c.connect("/"),
        ]);
        const boxes = [a, sender, outsider].map((s) => inbox(s, "msg", isBinary));
        const p = randomBytes(4096);
        sender.emit("broadcast", room, p);
        await expectMsgs(boxes, [[p], [], []]);
        assert.ok(isBinary(boxes[0].items[0][0]));
      });

      it("broadcast-others reaches the room but not the sender", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const tag = uid("tag");
        const [a, b, sender, outsider] = await Promise.all([
          c.connect("/", { auth: { room } }),
          c.connect("/", { auth: { room } }),
          c.connect("/", { auth: { room } }),
          c.connect("/"),
        ]);
        const boxes = [a, b, sender, outsider].map((s) => inbox(s, "msg", tagged(tag)));
        const p = { tag, others: true };
        sender.emit("broadcast-others", room, p);
        await expectMsgs(boxes, [[p], [p], [], []]);
      });

      it("broadcast-all reaches every socket of the namespace, no other namespace", T, async (t) => {
        const c = clients(t, tr);
        const tag = uid("tag");
        const tag2 = uid("tag");
        const [a, b, sender, bench, tenant, benchSender] = await Promise.all([
          c.connect("/"),
          c.connect("/", { auth: { room: uid("r") } }),
          c.connect("/"),
          c.connect("/bench"),
          c.connect("/tenant-all"),
          c.connect("/bench"),
        ]);
        const all = [a, b, sender, bench, tenant, benchSender];
        const boxes = all.map((s) => inbox(s, "msg", tagged(tag)));
        const p = { tag, all: "/" };
        sender.emit("broadcast-all", p);
        await expectMsgs(boxes, [[p], [p], [p], [], [], []]);
        const boxes2 = all.map((s) => inbox(s, "msg", tagged(tag2)));
        const p2 = { tag: tag2, all: "/bench" };
        benchSender.emit("broadcast-all", p2);
        await expectMsgs(boxes2, [[], [], [], [p2], [], [p2]]);
      });

      it("broadcast-rooms reaches each socket of the union once; broadcast-except", T, async (t) => {
        const c = clients(t, tr);
        const [r1, r2, r3, r4] = [uid("r"), uid("r"), uid("r"), uid("r")];
        const tag = uid("tag");
        const [inTwo, inThird, inNone, inOther, sender] = await Promise.all([
          c.connect("/", { auth: { room: r1 } }),
          c.connect("/", { auth: { room: r3 } }),
          c.connect("/"),
          c.connect("/", { auth: { room: r4 } }),
          c.connect("/"),
        ]);
        assert.equal(await ack(inTwo, "join", r2), true);
        let boxes = [inTwo, inThird, inNone, inOther, sender].map((s) => inbox(s, "msg", tagged(tag)));
        const p = { tag, union: [r1, r2, r3] };
        sender.emit("broadcast-rooms", [r1, r2, r3], p);
        await expectMsgs(boxes, [[p], [p], [], [], []]);

        // broadcast-except: to r1 except r2. inTwo is in both; r1Only only in r1;
        // r2Only only in r2.
        const tag2 = uid("tag");
        const [r1Only, r2Only] = await Promise.all([
          c.connect("/", { auth: { room: r1 } }),
          c.connect("/", { auth: { room: r2 } }),
        ]);
        assert.equal(await ack(sender, "join", r1), true);
        boxes = [inTwo, r1Only, r2Only, sender, inNone].map((s) => inbox(s, "msg", tagged(tag2)));
        const p2 = { tag: tag2, except: r2 };
        sender.emit("broadcast-except", r1, r2, p2);
        await expectMsgs(boxes, [[], [p2], [], [p2], []]);
      });

      it("private reaches the socket of that id only, with the sender's id", T, async (t) => {
        const c = clients(t, tr);
        const [a, b, other] = await Promise.all([c.connect("/"), c.connect("/"), c.connect("/")]);
        const boxes = [a, b, other].map((s) => inbox(s, "private"));
        const msg = { hello: "private ✉", n: 1.5 };
        a.emit("private", b.id, msg);
        await boxes[1].wait(1);
        await sleep(NEG_WAIT);
        assert.deepEqual(boxes[1].items, [[a.id, msg]]);
        assert.deepEqual(boxes[0].items, []);
        assert.deepEqual(boxes[2].items, []);
      });

      it("count acks the number of sockets in the room", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const [a, b, d] = await Promise.all([
          c.connect("/", { auth: { room } }),
          c.connect("/", { auth: { room } }),
          c.connect("/"),
          c.connect("/bench", { auth: { room } }), // another namespace: not counted
        ]);
        assert.equal(await ack(d, "count", room), 2);
        assert.equal(await ack(d, "join", room), true);
        assert.equal(await ack(a, "count", room), 3);
        assert.equal(await ack(b, "leave", room), true);
        assert.equal(await ack(a, "count", room), 2);
        assert.equal(await ack(a, "count", uid("empty")), 0);
        b.disconnect();
        d.disconnect();
        await sleep(100);
        assert.equal(await ack(a, "count", room), 1);
      });

      it("fetch-ids, sockets-join and sockets-leave", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const extra = uid("extra");
        const [a, b, outsider, sender] = await Promise.all([
          c.connect("/", { auth: { room } }),
          c.connect("/", { auth: { room } }),
          c.connect("/"),
          c.connect("/"),
          c.connect("/bench", { auth: { room } }), // another namespace: not fetched
        ]);
        assert.deepEqual(await ack(sender, "fetch-ids", room), [a.id, b.id].sort());
        assert.deepEqual(await ack(sender, "fetch-ids", uid("empty")), []);

        assert.equal(await ack(sender, "sockets-join", room, extra), true);
        assert.deepEqual([...(await ack(a, "rooms"))].sort(), [a.id, room, extra].sort());
        assert.deepEqual([...(await ack(b, "rooms"))].sort(), [b.id, room, extra].sort());
        assert.deepEqual(await ack(outsider, "rooms"), [outsider.id]);
        assert.deepEqual(await ack(sender, "rooms"), [sender.id]);
        assert.deepEqual(await ack(sender, "fetch-ids", extra), [a.id, b.id].sort());

        // a socket id is a room too
        assert.equal(await ack(sender, "sockets-join", outsider.id, extra), true);
        assert.deepEqual([...(await ack(outsider, "rooms"))].sort(), [outsider.id, extra].sort());

        assert.equal(await ack(sender, "sockets-leave", room, extra), true);
        assert.deepEqual([...(await ack(a, "rooms"))].sort(), [a.id, room].sort());
        assert.deepEqual([...(await ack(b, "rooms"))].sort(), [b.id, room].sort());
        assert.deepEqual(await ack(sender, "fetch-ids", extra), [outsider.id]);
      });

      it("disconnect-room acks true, then closes the members' whole connections", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const m = c.manager();
        const member = m.socket("/", { auth: { room } });
        const memberBench = m.socket("/bench"); // same connection, not in the room
        const gone = [once(member, "disconnect"), once(memberBench, "disconnect"), once(m, "close")];
        await c.ready(member, memberBench);
        const [member2, outsider, benchSameRoom, sender] = await Promise.all([
          c.connect("/", { auth: { room } }),
          c.connect("/", { auth: { room: uid("other") } }),
          c.connect("/bench", { auth: { room } }),
          c.connect("/"),
        ]);
        const gone2 = once(member2, "disconnect");
        const stillUp = [outsider, benchSameRoom, sender];
        const stray = stillUp.map((s) => inbox(s, "disconnect"));

        assert.equal(await ack(sender, "disconnect-room", room), true);
        const [[r1], [r2], , [r3]] = await Promise.all([...gone, gone2]);
        assert.deepEqual(
          { member: r1, memberOtherNamespace: r2, secondMember: r3 },
          {
            member: "io server disconnect",
            memberOtherNamespace: "io server disconnect",
            secondMember: "io server disconnect",
          },
          "client-side disconnect reasons"
        );
        assert.equal(member.connected, false);
        assert.equal(memberBench.connected, false);

        await sleep(NEG_WAIT);
        for (const [i, s] of stillUp.entries()) {
          assert.deepEqual(stray[i].items, [], `socket #${i} must stay connected`);
          assert.equal(await ack(s, "echo", i), i);
        }
        assert.equal(await ack(sender, "count", room), 0);
      });

      it("disconnect-room: a member sender gets its ack before it is disconnected", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const s = await c.connect("/", { auth: { room } });
        const events = [];
        s.on("disconnect", (reason) => events.push(`disconnect:${reason}`));
        const gone = once(s, "disconnect");
        // The callback form records the ack synchronously, like the event.
        const acked = new Promise((resolve) =>
          s.timeout(STEP).emit("disconnect-room", room, (err, v) => {
            events.push(err ? `no ack: ${err.message}` : `ack:${v}`);
            resolve();
          })
        );
        await gone;
        await Promise.race([acked, sleep(100)]);
        assert.deepEqual(events, ["ack:true", "disconnect:io server disconnect"]);
      });

      it("ask collects every member's reply", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const members = await Promise.all([1, 2, 3].map(() => c.connect("/", { auth: { room } })));
        const asker = await c.connect("/");
        const payloads = members.map(() => []);
        members.forEach((s, i) =>
          s.on("ask", (payload, cb) => {
            payloads[i].push(payload);
            cb(s.id);
          })
        );
        const q = { q: "who are you?", n: 1.5 };
        const res = await asker.timeout(ASK_TIMEOUT + STEP).emitWithAck("ask", room, q);
        assert.deepEqual(res, { replies: members.map((s) => s.id).sort(), error: null });
        assert.deepEqual(payloads, [[q], [q], [q]]);

        const empty = await ack(asker, "ask", uid("empty"), q);
        assert.deepEqual(empty, { replies: [], error: null });
      });

      it("ask with a member that never answers times out after ~2 s with the replies that came", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const [a, b, silent, asker] = await Promise.all([
          c.connect("/", { auth: { room } }),
          c.connect("/", { auth: { room } }),
          c.connect("/", { auth: { room } }),
          c.connect("/"),
        ]);
        for (const s of [a, b]) s.on("ask", (_p, cb) => cb(s.id));
        let asked = 0;
        silent.on("ask", () => asked++); // never calls the ack
        const start = Date.now();
        const res = await asker.timeout(ASK_TIMEOUT + STEP).emitWithAck("ask", room, "q");
        const elapsed = Date.now() - start;
        assert.deepEqual(res, { replies: [a.id, b.id].sort(), error: "operation has timed out" });
        assert.equal(asked, 1);
        assert.ok(elapsed >= ASK_TIMEOUT - 100 && elapsed < ASK_TIMEOUT + 1500, `acked after ${elapsed} ms`);
      });

      it("server-ping on a single server acks 0", T, async (t) => {
        const c = clients(t, tr);
        const [s, b] = await Promise.all([c.connect("/"), c.connect("/bench")]);
        assert.equal(await s.timeout(ASK_TIMEOUT + STEP).emitWithAck("server-ping"), 0);
        assert.equal(await b.timeout(ASK_TIMEOUT + STEP).emitWithAck("server-ping"), 0);
      });

      it("observers get left(sid, rooms at disconnecting, 0) when a socket of / disconnects", T, async (t) => {
        const c = clients(t, tr);
        const [r1, r2, r3, r4] = [uid("r"), uid("r"), uid("r"), uid("r")];
        const [observer, quitter, kicked, sender, bench] = await Promise.all([
          c.connect("/"),
          c.connect("/", { auth: { room: r1 } }),
          c.connect("/", { auth: { room: r3 } }),
          c.connect("/"),
          c.connect("/bench"),
        ]);
        assert.equal(await ack(observer, "join", "observers"), true);
        assert.equal(await ack(quitter, "join", r2), true);
        assert.equal(await ack(kicked, "join", r4), true);
        assert.equal(await ack(bench, "join", "observers"), true); // /bench observers: not told
        const ids = { quitter: quitter.id, kicked: kicked.id, bench: bench.id };
        const mine = new Set(Object.values(ids));
        const left = inbox(observer, "left", (sid) => mine.has(sid));
        const benchLeft = inbox(bench, "left");

        quitter.disconnect(); // client side
        await left.wait(1);
        assert.deepEqual(left.items[0], [ids.quitter, [ids.quitter, r1, r2].sort(), 0]);

        assert.equal(await ack(sender, "disconnect-room", r3), true); // server side
        await left.wait(2);
        assert.deepEqual(left.items[1], [ids.kicked, [ids.kicked, r3, r4].sort(), 0]);

        bench.disconnect(); // a socket of /bench: no "left"
        await sleep(NEG_WAIT);
        assert.equal(left.items.length, 2);
        assert.deepEqual(benchLeft.items, []);
      });

      it("namespaces over one connection keep their rooms apart", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("r1");
        const only = uid("only");
        const tag = uid("tag");
        const m = c.manager();
        const root = m.socket("/", { auth: { room } });
        const bench = m.socket("/bench", { auth: { room } });
        await c.ready(root, bench);
        assert.equal(root.io, bench.io, "one Manager");
        assert.notEqual(root.id, bench.id);
        assert.equal(await ack(bench, "join", only), true);
        assert.deepEqual([...(await ack(root, "rooms"))].sort(), [root.id, room].sort());
        assert.deepEqual([...(await ack(bench, "rooms"))].sort(), [bench.id, room, only].sort());
        assert.equal(await ack(root, "count", only), 0);
        assert.equal(await ack(bench, "count", only), 1);

        const boxes = [root, bench].map((s) => inbox(s, "msg", tagged(tag)));
        const p1 = { tag, via: "/bench" };
        bench.emit("broadcast", room, p1);
        await expectMsgs(boxes, [[], [p1]]);
        const p2 = { tag, via: "/" };
        root.emit("broadcast", room, p2);
        await expectMsgs(boxes, [[p2], [p1]]);
      });

      it("/admin: missing or wrong token is refused with unauthorized {code: 401}", T, async (t) => {
        const c = clients(t, tr);
        const cases = [
          ["no auth", {}],
          ["no token", { auth: { room: "x" } }],
          ["wrong token", { auth: { token: "nope" } }],
          ["token of the wrong type", { auth: { token: 1 } }],
        ];
        const errs = await Promise.all(cases.map(([, opts]) => connectError(c.open("/admin", opts))));
        errs.forEach((err, i) => {
          assert.equal(err.message, "unauthorized", cases[i][0]);
          assert.deepEqual(err.data, { code: 401 }, cases[i][0]);
        });
      });

      it("/admin: token \"secret\" connects and gets the handlers of /", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const s = await c.connect("/admin", { auth: { token: "secret", room } });
        assert.deepEqual(await ack(s, "echo", { a: [1.5, "é"] }), { a: [1.5, "é"] });
        assert.deepEqual([...(await ack(s, "rooms"))].sort(), [s.id, room].sort());
      });

      it("tenants: hello with the namespace name; rooms kept apart", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("r1");
        const tag = uid("tag");
        const sa = c.open("/tenant-a", { auth: { room } });
        const sb = c.open("/tenant-b", { auth: { room } });
        const helloA = once(sa, "hello");
        const helloB = once(sb, "hello");
        await c.ready(sa, sb);
        assert.deepEqual(await helloA, ["/tenant-a"]);
        assert.deepEqual(await helloB, ["/tenant-b"]);
        const [sa2, root] = await Promise.all([
          c.connect("/tenant-a"),
          c.connect("/", { auth: { room } }),
        ]);
        assert.deepEqual(await ack(sa2, "echo", [1.5, "ü"]), [1.5, "ü"]);
        assert.equal(await ack(sa2, "count", room), 1);

        const boxes = [sa, sb, root, sa2].map((s) => inbox(s, "msg", tagged(tag)));
        const p = { tag, ns: "/tenant-a" };
        sa2.emit("broadcast", room, p);
        await expectMsgs(boxes, [[p], [], [], []]);
        const boxesAll = [sa, sb, root, sa2].map((s) => inbox(s, "msg", tagged(tag + "all")));
        const pAll = { tag: tag + "all" };
        sb.emit("broadcast-all", pAll);
        await expectMsgs(boxesAll, [[], [pAll], [], []]);
      });

      it("a namespace that does not exist gets \"Invalid namespace\"", T, async (t) => {
        const c = clients(t, tr);
        const names = ["/nope", "/tenant-", "/tenant-A", "/tenant-a/b", "/benchx"];
        const errs = await Promise.all(names.map((n) => connectError(c.open(n))));
        errs.forEach((err, i) => assert.equal(err.message, "Invalid namespace", names[i]));
      });

      it("200 echo acks resolve in order with the right payloads", T, async (t) => {
        const c = clients(t, tr);
        const s = await c.connect("/");
        const order = [];
        const sent = Array.from({ length: 200 }, (_, i) => ({ seq: i, t: Date.now(), pad: "p".repeat(i) }));
        const got = await Promise.all(
          sent.map((p) =>
            s.timeout(STEP * 2).emitWithAck("echo", p).then((r) => {
              order.push(p.seq);
              return r;
            })
          )
        );
        assert.deepEqual(order, sent.map((p) => p.seq));
        assert.deepEqual(got, sent);
      });

      it("100 broadcasts from one sender arrive in order", T, async (t) => {
        const c = clients(t, tr);
        const room = uid("room");
        const tag = uid("tag");
        const [receiver, sender] = await Promise.all([
          c.connect("/", { auth: { room } }),
          c.connect("/"),
        ]);
        const box = inbox(receiver, "msg", tagged(tag));
        for (let i = 0; i < 100; i++) sender.emit("broadcast", room, { tag, seq: i });
        await box.wait(100, STEP * 2);
        await sleep(NEG_WAIT);
        assert.deepEqual(
          box.items.map(([p]) => p.seq),
          Array.from({ length: 100 }, (_, i) => i)
        );
      });

      if (tr.upgrade) {
        it("echo acks sent during the upgrade resolve in order", T, async (t) => {
          const c = clients(t, tr);
          const s = c.open("/");
          const order = [];
          // Emitted before the connection is even open: buffered, then sent
          // over polling and, once the upgrade is done, over WebSocket.
          const all = Array.from({ length: 200 }, (_, i) => {
            const p = { seq: i, pad: "u".repeat(i * 10) };
            return s.timeout(STEP * 2).emitWithAck("echo", p).then((r) => {
              order.push(i);
              assert.deepEqual(r, p);
            });
          });
          await connected(s);
          await Promise.all(all);
          await upgraded(s);
          assert.deepEqual(order, Array.from({ length: 200 }, (_, i) => i));
          assert.equal(await ack(s, "echo", "after"), "after");
        });
      }
    });
  }
});

/** Checks the rooms ack of a socket against the expected set, any order. */
function sortedRooms(got, expected) {
  assert.ok(Array.isArray(got), `rooms ack is not an array: ${JSON.stringify(got)}`);
  assert.deepEqual([...got].sort(), [...expected].sort());
  return got;
}
