// The bench app of shared/bench/BENCH-APP.md on the official Node.js server
// (socket.io 4.8.4): the baseline that cmd/roomcast-bench compares Roomcast's
// examples/reference with. Same behaviour, same defaults, same READY line.
//
//   npm ci && PORT=3000 node app.mjs          # prints READY 3000
//   REDIS_URL=redis://127.0.0.1:6379/0 ...    # one node of a Redis cluster
//   REDIS_ADAPTER=sharded ...                 # ... through the sharded adapter

import { createServer } from "node:http";
import { Server } from "socket.io";

const PORT = Number(process.env.PORT || 3000);
const TENANT = /^\/tenant-[a-z0-9]+$/;
const ASK_TIMEOUT_MS = 2000;

const httpServer = createServer();
const io = new Server(httpServer, {
  path: "/socket.io/",
  transports: ["polling", "websocket"],
  allowUpgrades: true,
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
  perMessageDeflate: false,
  httpCompression: false,
});

let redisClients = [];
if (process.env.REDIS_URL) {
  // Loaded only when clustered, so that a plain run needs no Redis at all.
  const { createClient } = await import("redis");
  const { createAdapter, createShardedAdapter } = await import("@socket.io/redis-adapter");
  const pub = createClient({ url: process.env.REDIS_URL });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on("error", (err) => console.error("redis:", err.message));
  await Promise.all([pub.connect(), sub.connect()]);
  redisClients = [pub, sub];
  // REDIS_ADAPTER=sharded: createShardedAdapter (Redis 7 sharded pub/sub,
  // dynamic subscriptions). Otherwise createAdapter, whose requestsTimeout
  // bounds server-ping (serverSideEmit with acks) at 2000 ms.
  io.adapter(
    process.env.REDIS_ADAPTER === "sharded"
      ? createShardedAdapter(pub, sub)
      : createAdapter(pub, sub, { key: "socket.io", requestsTimeout: ASK_TIMEOUT_MS }),
  );
}

const isFn = (f) => typeof f === "function";

// Every server answers a server-side "ping" with "pong".
function answerPings(nsp) {
  nsp.on("ping", (ack) => {
    if (isFn(ack)) ack("pong");
  });
}

// The handlers shared by every namespace. nsp is the socket's own namespace.
function handlers(socket) {
  const nsp = socket.nsp;
  const room = socket.handshake.auth?.room;
  if (typeof room === "string") socket.join(room);

  socket.on("join", (room, ack) => {
    socket.join(room);
    if (isFn(ack)) ack(true);
  });
  socket.on("leave", (room, ack) => {
    socket.leave(room);
    if (isFn(ack)) ack(true);
  });
  socket.on("echo", (payload, ack) => {
    if (isFn(ack)) ack(payload);
  });
  socket.on("broadcast", (room, payload) => {
    nsp.to(room).emit("msg", payload);
  });
  socket.on("broadcast-others", (room, payload) => {
    socket.to(room).emit("msg", payload);
  });
  socket.on("broadcast-all", (payload) => {
    nsp.emit("msg", payload);
  });
  socket.on("count", (room, ack) => {
    if (isFn(ack)) ack(nsp.adapter.rooms.get(room)?.size ?? 0);
  });
  socket.on("broadcast-rooms", (rooms, payload) => {
    let op = nsp;
    for (const r of Array.isArray(rooms) ? rooms : []) op = op.to(r);
    op.emit("msg", payload);
  });
  socket.on("broadcast-except", (room, exceptRoom, payload) => {
    nsp.to(room).except(exceptRoom).emit("msg", payload);
  });
  socket.on("private", (sid, msg) => {
    socket.to(sid).emit("private", socket.id, msg);
  });
  socket.on("rooms", (ack) => {
    if (isFn(ack)) ack([...socket.rooms]);
  });
  socket.on("fetch-ids", async (room, ack) => {
    let ids = [];
    try {
      ids = (await nsp.in(room).fetchSockets()).map((s) => s.id).sort();
    } catch (err) {
      console.error("fetch-ids:", err.message);
    }
    if (isFn(ack)) ack(ids);
  });
  socket.on("sockets-join", (room, newRoom, ack) => {
    nsp.in(room).socketsJoin(newRoom);
    if (isFn(ack)) ack(true);
  });
  socket.on("sockets-leave", (room, oldRoom, ack) => {
    nsp.in(room).socketsLeave(oldRoom);
    if (isFn(ack)) ack(true);
  });
  socket.on("disconnect-room", (room, ack) => {
    if (isFn(ack)) ack(true);
    nsp.in(room).disconnectSockets(true);
  });
  socket.on("ask", (room, payload, ack) => {
    // The callback form keeps the replies that did arrive when it times out.
    nsp
      .to(room)
      .timeout(ASK_TIMEOUT_MS)
      .emit("ask", payload, (err, replies) => {
        const sorted = [...(replies || [])].sort();
        if (isFn(ack)) ack({ replies: sorted, error: err ? err.message : null });
      });
  });
  socket.on("server-ping", async (ack) => {
    let n = 0;
    if (redisClients.length) {
      try {
        n = (await nsp.serverSideEmitWithAck("ping")).length;
      } catch (err) {
        n = err.responses?.length ?? 0;
      }
    }
    // The in-memory adapter has no other server to ask: 0 replies.
    if (isFn(ack)) ack(n);
  });
}

// Namespace "/": the handlers, plus the "left" report to room "observers".
io.on("connection", (socket) => {
  handlers(socket);
  let before = [];
  socket.on("disconnecting", () => {
    before = [...socket.rooms].sort();
  });
  socket.on("disconnect", () => {
    io.to("observers").emit("left", socket.id, before, socket.rooms.size);
  });
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

for (const nsp of [io.of("/"), io.of("/bench"), admin]) answerPings(nsp);
io.on("new_namespace", (nsp) => {
  if (TENANT.test(nsp.name)) answerPings(nsp);
});

httpServer.listen(PORT, "127.0.0.1", () => {
  console.log(`READY ${httpServer.address().port}`);
});

let closing = false;
function shutdown() {
  if (closing) return;
  closing = true;
  io.close(() => {
    Promise.allSettled(redisClients.map((c) => c.quit())).then(() => process.exit(0));
  });
  // Never hang on a client that does not go away.
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
