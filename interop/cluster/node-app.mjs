// The bench app of shared/bench/BENCH-APP.md on the official Node.js server
// (socket.io 4.8.x) with the official @socket.io/redis-adapter (8.3.x,
// createAdapter, key "socket.io"; with REDIS_ADAPTER=sharded,
// createShardedAdapter in its default dynamic mode): the Node.js member of
// the mixed clusters that interop/cluster.test.mjs builds with Roomcast's
// examples/reference.
//
//   PORT=3000 REDIS_URL=redis://127.0.0.1:6379 node cluster/node-app.mjs   # prints READY 3000
//
// Besides the app's handlers, it answers a server-side "whoami" with
// "node", so that tests can tell which servers replied.

import { createServer } from "node:http";
import { Server } from "socket.io";
import { createClient } from "redis";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";

const PORT = Number(process.env.PORT || 3000);
const TENANT = /^\/tenant-[a-z0-9]+$/;
const ASK_TIMEOUT_MS = 2000;

if (!process.env.REDIS_URL) {
  console.error("node-app: REDIS_URL is required");
  process.exit(1);
}

const httpServer = createServer();
const io = new Server(httpServer, { path: "/socket.io/", perMessageDeflate: false, httpCompression: false });

const pub = createClient({ url: process.env.REDIS_URL });
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on("error", (err) => console.error("redis:", err.message));
await Promise.all([pub.connect(), sub.connect()]);
io.adapter(
  process.env.REDIS_ADAPTER === "sharded"
    ? createShardedAdapter(pub, sub)
    : createAdapter(pub, sub, { requestsTimeout: ASK_TIMEOUT_MS }),
);

const isFn = (f) => typeof f === "function";

function serverSide(nsp) {
  nsp.on("ping", (ack) => isFn(ack) && ack("pong"));
  nsp.on("whoami", (ack) => isFn(ack) && ack("node"));
}

function handlers(socket) {
  const nsp = socket.nsp;
  const room = socket.handshake.auth?.room;
  if (typeof room === "string") socket.join(room);
  const on = (ev, fn) => socket.on(ev, fn);

  on("join", (room, ack) => {
    socket.join(room);
    isFn(ack) && ack(true);
  });
  on("leave", (room, ack) => {
    socket.leave(room);
    isFn(ack) && ack(true);
  });
  on("echo", (payload, ack) => isFn(ack) && ack(payload));
  on("broadcast", (room, payload) => nsp.to(room).emit("msg", payload));
  on("broadcast-others", (room, payload) => socket.to(room).emit("msg", payload));
  on("broadcast-all", (payload) => nsp.emit("msg", payload));
  on("count", (room, ack) => isFn(ack) && ack(nsp.adapter.rooms.get(room)?.size ?? 0));
  on("broadcast-rooms", (rooms, payload) => {
    let op = nsp;
    for (const r of Array.isArray(rooms) ? rooms : []) op = op.to(r);
    op.emit("msg", payload);
  });
  on("broadcast-except", (room, except, payload) => nsp.to(room).except(except).emit("msg", payload));
  on("private", (sid, msg) => socket.to(sid).emit("private", socket.id, msg));
  on("rooms", (ack) => isFn(ack) && ack([...socket.rooms]));
  on("fetch-ids", async (room, ack) => {
    let ids = [];
    try {
      ids = (await nsp.in(room).fetchSockets()).map((s) => s.id).sort();
    } catch (err) {
      console.error("fetch-ids:", err.message);
    }
    isFn(ack) && ack(ids);
  });
  on("sockets-join", (room, newRoom, ack) => {
    nsp.in(room).socketsJoin(newRoom);
    isFn(ack) && ack(true);
  });
  on("sockets-leave", (room, oldRoom, ack) => {
    nsp.in(room).socketsLeave(oldRoom);
    isFn(ack) && ack(true);
  });
  on("disconnect-room", (room, ack) => {
    isFn(ack) && ack(true);
    nsp.in(room).disconnectSockets(true);
  });
  on("ask", (room, payload, ack) => {
    nsp
      .to(room)
      .timeout(ASK_TIMEOUT_MS)
      .emit("ask", payload, (err, replies) => {
        const sorted = [...(replies || [])].sort();
        isFn(ack) && ack({ replies: sorted, error: err ? err.message : null });
      });
  });
  on("server-ping", async (ack) => {
    let n = 0;
    try {
      n = (await nsp.serverSideEmitWithAck("ping")).length;
    } catch (err) {
      n = err.responses?.length ?? 0;
    }
    isFn(ack) && ack(n);
  });
}

io.on("connection", (socket) => {
  handlers(socket);
  let before = [];
  socket.on("disconnecting", () => (before = [...socket.rooms].sort()));
  socket.on("disconnect", () => io.to("observers").emit("left", socket.id, before, socket.rooms.size));
});
io.of("/bench").on("connection", handlers);
const admin = io.of("/admin");
admin.use((socket, next) => {
  if (socket.handshake.auth?.token === "secret") return next();
  const err = new Error("unauthorized");
  err.data = { code: 401 };
  next(err);
});
admin.on("connection", handlers);
io.of(TENANT).on("connection", (socket) => {
  socket.emit("hello", socket.nsp.name);
  handlers(socket);
});
for (const nsp of [io.of("/"), io.of("/bench"), admin]) serverSide(nsp);
io.on("new_namespace", (nsp) => TENANT.test(nsp.name) && serverSide(nsp));

httpServer.listen(PORT, "127.0.0.1", () => console.log(`READY ${httpServer.address().port}`));

let closing = false;
function shutdown() {
  if (closing) return;
  closing = true;
  io.close(() => Promise.allSettled([pub.quit(), sub.quit()]).then(() => process.exit(0)));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
