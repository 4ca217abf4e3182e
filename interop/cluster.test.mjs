// Mixed cluster: Roomcast (examples/reference with REDIS_URL, the Redis
// adapter of adapter/redis) and the official Node.js server (socket.io 4.8
// with @socket.io/redis-adapter 8.3, bench/node/app.mjs) on one Redis
// started by the test, with socket.io-client clients on both. Every
// operation of the bench app is run from each side, once with the classic
// adapters (createAdapter) and once with the sharded ones
// (createShardedAdapter); the Node.js @socket.io/redis-emitter and
// Roomcast's emitter (classic protocol) reach both servers.
//
//   cd interop && node --test cluster.test.mjs
//
// REFERENCE_BIN and GOEMITTER_BIN may name prebuilt binaries; otherwise the
// test builds them with `go build`. redis-server must be on the PATH.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Emitter } from "@socket.io/redis-emitter";
import {
  call,
  connect,
  goEmit,
  have,
  none,
  once,
  startGo,
  startNode,
  startRedis,
  until,
  waitRoom,
  waitServers,
} from "./cluster/harness.mjs";

const TEST_TIMEOUT = 20_000;
const hasRedis = await have("redis-server");
if (!hasRedis && process.env.ROOMCAST_REQUIRE_REDIS) {
  throw new Error("redis-server is not installed, and ROOMCAST_REQUIRE_REDIS is set (run make redis)");
}

let seq = 0;
const uid = (p = "r") => `${p}-${++seq}-${randomBytes(3).toString("hex")}`;

for (const adapter of ["classic", "sharded"]) {
describe(`mixed cluster (Roomcast + Node.js, @socket.io/redis-adapter, ${adapter})`, { skip: !hasRedis && "no redis-server" }, () => {
  let redis, go, node;
  const sockets = [];
  const open = async (...args) => {
    const s = await connect(...args);
    sockets.push(s);
    return s;
  };

  before(async () => {
    redis = await startRedis();
    [go, node] = await Promise.all([startGo(redis.url, adapter), startNode(redis.url, adapter)]);
    await waitServers(redis, 2, ["/", "/bench", "/admin"], adapter);
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    await Promise.allSettled([go?.stop(), node?.stop()]);
    await redis?.stop();
  });

  // Each scenario runs twice: the acting client on Roomcast, then on Node.js.
  for (const [name, pick] of [
    ["from Roomcast", () => [go, node]],
    ["from Node.js", () => [node, go]],
  ]) {
    describe(name, () => {
      it("broadcast to a room reaches its members on both servers, binary included", { timeout: TEST_TIMEOUT }, async () => {
        const [A, B] = pick();
        const room = uid();
        const [sender, a2, b1, b2] = await Promise.all([open(A), open(A, "/", { room }), open(B, "/", { room }), open(B)]);
        await waitRoom(redis, adapter, room, 2);
        let got = Promise.all([once(a2, "msg"), once(b1, "msg")]);
        sender.emit("broadcast", room, { hello: "world", n: 1.5 });
        for (const [payload] of await got) assert.deepEqual(payload, { hello: "world", n: 1.5 });
        await Promise.all([none(b2, "msg"), none(sender, "msg")]);

        got = Promise.all([once(a2, "msg"), once(b1, "msg")]);
        sender.emit("broadcast", room, { bin: Buffer.from([1, 2, 3]), list: [Buffer.from([4])] });
        for (const [payload] of await got) {
          assert.deepEqual([...payload.bin], [1, 2, 3]);
          assert.deepEqual([...payload.list[0]], [4]);
        }
      });

      it("socket.to(room) excludes the sender; except and several rooms", { timeout: TEST_TIMEOUT }, async () => {
        const [A, B] = pick();
        const [room, muted, other] = [uid(), uid(), uid()];
        const sender = await open(A, "/", { room });
        const b1 = await open(B, "/", { room });
        const b2 = await open(B, "/", { room });
        const b3 = await open(B, "/", { room: other });
        await call(b2, "join", muted);
        await waitRoom(redis, adapter, room, 2);

        let got = Promise.all([once(b1, "msg"), once(b2, "msg")]);
        sender.emit("broadcast-others", room, "others");
        await got;
        await none(sender, "msg");

        got = once(b1, "msg");
        sender.emit("broadcast-except", room, muted, "not-muted");
        await got;
        await none(b2, "msg");

        got = Promise.all([once(sender, "msg"), once(b1, "msg"), once(b2, "msg"), once(b3, "msg")]);
        sender.emit("broadcast-rooms", [room, other, muted], "multi");
        await got;
        await Promise.all([none(b2, "msg"), none(sender, "msg")]); // once each
      });

      it("private messages and broadcast-all", { timeout: TEST_TIMEOUT }, async () => {
        const [A, B] = pick();
        const [a, b] = await Promise.all([open(A), open(B)]);
        const got = once(b, "private");
        a.emit("private", b.id, "psst");
        assert.deepEqual(await got, [a.id, "psst"]);

        const tag = uid("all");
        const seen = (s) =>
          new Promise((resolve) => {
            const on = (p) => p === tag && (s.off("msg", on), resolve());
            s.on("msg", on);
          });
        const all = Promise.all([seen(a), seen(b)]);
        a.emit("broadcast-all", tag);
        await all;
      });

      it("fetch-ids, sockets-join and sockets-leave are cluster-wide", { timeout: TEST_TIMEOUT }, async () => {
        const [A, B] = pick();
        const [room, extra] = [uid(), uid()];
        const [a, a2, b] = await Promise.all([open(A), open(A, "/", { room }), open(B, "/", { room })]);
        assert.deepEqual(await call(a, "fetch-ids", room), [a2.id, b.id].sort());

        assert.equal(await call(a, "sockets-join", room, extra), true);
        await until(async () => (await call(b, "rooms")).includes(extra), "remote socket joined");
        await until(async () => (await call(a2, "rooms")).includes(extra), "local socket joined");
        assert.deepEqual(await call(b, "fetch-ids", extra), [a2.id, b.id].sort());

        assert.equal(await call(a, "sockets-leave", room, extra), true);
        await until(async () => !(await call(b, "rooms")).includes(extra), "remote socket left");
        assert.deepEqual(await call(a, "fetch-ids", extra), []);
        assert.equal(await call(b, "count", room), 1);
      });

      it("disconnect-room closes the members' connections on both servers", { timeout: TEST_TIMEOUT }, async () => {
        const [A, B] = pick();
        const room = uid();
        const [a, a2, b, b2] = await Promise.all([open(A), open(A, "/", { room }), open(B, "/", { room }), open(B)]);
        const gone = Promise.all([once(a2, "disconnect"), once(b, "disconnect")]);
        assert.equal(await call(a, "disconnect-room", room), true);
        const reasons = (await gone).map(([r]) => r);
        assert.deepEqual(reasons, ["io server disconnect", "io server disconnect"]);
        await none(b2, "disconnect");
        assert.ok(b2.connected && a.connected);
      });

      it("ask: a broadcast with acks collects the replies of both servers' clients", { timeout: TEST_TIMEOUT }, async () => {
        const [A, B] = pick();
        const room = uid();
        const [a, a2, b, b2] = await Promise.all([open(A), open(A, "/", { room }), open(B, "/", { room }), open(B, "/", { room })]);
        const res = await call(a, "ask", room, "who");
        assert.deepEqual(res, { replies: [a2.id, b.id, b2.id].sort(), error: null });

        const empty = await call(a, "ask", uid("nobody"), "who");
        assert.deepEqual(empty, { replies: [], error: null });

        // A client that never answers: the others' replies and a timeout.
        b2.off("ask");
        b2.on("ask", () => {});
        const partial = await call(a, "ask", room, "who");
        assert.deepEqual(partial.replies, [a2.id, b.id].sort());
        assert.match(partial.error, /timed? ?out/i);
      });

      it("server-ping: server-side emit with acks reaches the other server", { timeout: TEST_TIMEOUT }, async () => {
        const [A] = pick();
        const a = await open(A);
        assert.equal(await call(a, "server-ping"), 1);
        const admin = await open(A, "/admin", { token: "secret" });
        assert.equal(await call(admin, "server-ping"), 1);
      });

      it("namespaces: /bench and tenants are kept apart across servers", { timeout: TEST_TIMEOUT }, async () => {
        const [A, B] = pick();
        const room = uid();
        const tenant = `/tenant-${randomBytes(3).toString("hex")}`;
        const ta = await open(A, tenant, { room });
        const tb = await open(B, tenant, { room });
        const other = await open(B, `/tenant-${randomBytes(3).toString("hex")}z`, { room });
        const main = await open(B, "/", { room });
        const bench = await open(B, "/bench", { room });
        // The tenant's namespace now exists on both servers.
        await waitServers(redis, 2, [tenant], adapter);
        await waitRoom(redis, adapter, room, 2, tenant);
        const got = once(tb, "msg");
        ta.emit("broadcast", room, "tenant");
        assert.deepEqual(await got, ["tenant"]);
        await Promise.all([none(other, "msg"), none(main, "msg"), none(bench, "msg")]);
      });
    });
  }

  it("binary acks travel from a Roomcast client to a Node.js asker", { timeout: TEST_TIMEOUT }, async () => {
    const room = uid();
    const [asker, goClient] = await Promise.all([open(node), open(go, "/", { room })]);
    const res = await call(asker, "ask", room, "bin");
    assert.equal(res.error, null);
    assert.equal(res.replies.length, 1);
    assert.deepEqual([...res.replies[0]], [1, 2, 3]);
    void goClient;
  });

  describe("emitters", { skip: adapter === "sharded" && "the sharded emitter is not released" }, () => {
    it("the Node.js redis-emitter reaches Roomcast clients", { timeout: TEST_TIMEOUT }, async () => {
      const room = uid();
      const [g, n, outside] = await Promise.all([open(go, "/", { room }), open(node, "/", { room }), open(go)]);
      const emitter = new Emitter(redis.client);
      const got = Promise.all([once(g, "fromNodeEmitter"), once(n, "fromNodeEmitter")]);
      emitter.to(room).emit("fromNodeEmitter", 1, Buffer.from([7]), { d: new Date(0) });
      for (const [one, bin, obj] of await got) {
        assert.equal(one, 1);
        assert.deepEqual([...bin], [7]);
        assert.deepEqual(obj, { d: "1970-01-01T00:00:00.000Z" });
      }
      await none(outside, "fromNodeEmitter");

      const joined = uid();
      emitter.in(room).socketsJoin(joined);
      await until(async () => (await call(g, "rooms")).includes(joined), "socketsJoin on Roomcast");
      emitter.of("/bench").emit("elsewhere");
      await none(g, "elsewhere");

      const gone = once(g, "disconnect");
      emitter.in(joined).disconnectSockets(true);
      await gone;
      assert.ok(outside.connected);
    });

    it("Roomcast's Go emitter reaches Node.js clients", { timeout: TEST_TIMEOUT }, async () => {
      const room = uid();
      const [n, g, outside] = await Promise.all([open(node, "/", { room }), open(go, "/", { room }), open(node)]);
      const got = Promise.all([once(n, "fromGoEmitter"), once(g, "fromGoEmitter")]);
      await goEmit(redis.url, { to: [room], op: "emit", event: "fromGoEmitter", args: [1, { $bin: "0708" }, { k: "v" }] });
      for (const [one, bin, obj] of await got) {
        assert.equal(one, 1);
        assert.deepEqual([...bin], [7, 8]);
        assert.deepEqual(obj, { k: "v" });
      }
      await none(outside, "fromGoEmitter");

      const joined = uid();
      await goEmit(redis.url, { to: [room], op: "socketsJoin", rooms: [joined] });
      await until(async () => (await call(n, "rooms")).includes(joined), "socketsJoin on Node.js");
      await goEmit(redis.url, { to: [joined], op: "socketsLeave", rooms: [room] });
      await until(async () => !(await call(n, "rooms")).includes(room), "socketsLeave on Node.js");

      const gone = Promise.all([once(n, "disconnect"), once(g, "disconnect")]);
      await goEmit(redis.url, { to: [joined], op: "disconnectSockets", close: true });
      await gone;
      assert.ok(outside.connected);
    });
  });

  // Last, since it takes Redis away from everyone for a while.
  describe("failure", () => {
    it("both servers serve their own clients while Redis is down, and resume cluster delivery once it is back", { timeout: 30_000 }, async () => {
      const room = uid();
      const [g, n] = await Promise.all([open(go, "/", { room }), open(node, "/", { room })]);
      await waitRoom(redis, adapter, room, 2);
      const tagged = (s, tag, ms) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => (s.off("msg", on), reject(new Error(`no ${tag}`))), ms);
          const on = (p) => p === tag && (clearTimeout(timer), s.off("msg", on), resolve());
          s.on("msg", on);
        });
      const crossDelivery = async (from, to) => {
        const tag = uid("probe");
        const got = tagged(to, tag, 300);
        from.emit("broadcast", room, tag);
        return got.then(() => true, () => false);
      };
      assert.ok(await crossDelivery(g, n));

      await redis.kill();
      // The Node.js sharded adapter delivers locally only once its publish
      // settles, which node-redis holds in its offline queue until Redis is
      // back: there, only Roomcast's local delivery is checked.
      for (const s of adapter === "sharded" ? [g] : [g, n]) {
        assert.equal(await call(s, "echo", "still here"), "still here");
        const tag = uid(s === g ? "local-go" : "local-node");
        const got = tagged(s, tag, 3000);
        s.emit("broadcast", room, tag);
        await got;
      }
      // Roomcast's cluster operations fail fast with what is local.
      const start = Date.now();
      assert.deepEqual(await call(g, "fetch-ids", room), [g.id]);
      assert.equal(await call(g, "server-ping"), 0);
      assert.ok(Date.now() - start < 1500, `took ${Date.now() - start} ms`);

      await redis.start();
      await until(() => crossDelivery(g, n), "delivery from Roomcast to Node.js", 15_000);
      await until(() => crossDelivery(n, g), "delivery from Node.js to Roomcast", 15_000);
      await waitServers(redis, 2, ["/"], adapter);
      assert.deepEqual(await call(g, "fetch-ids", room), [g.id, n.id].sort());
      assert.equal(await call(n, "server-ping"), 1);
    });
  });

});
}
