package roomcast

// How the server is put together, for those who change it.
//
// Layers, each one job: engineio.Server owns sessions and transports; a
// client (client.go) is one Engine.IO session seen from Socket.IO, decoding
// packets and routing them to its sockets, one per namespace; a Namespace
// holds its sockets, middlewares and handlers; the namespace's
// adapter.Adapter owns the room index and carries broadcasts.
//
// Goroutines: the transport's reader (a WebSocket's read burst or read loop,
// or the goroutine of a polling POST) decodes packets, resolves
// acknowledgements and queues events; it never runs user code while it
// reads. Each socket has a dispatcher that runs its handlers in order on a
// goroutine that exists only while there is work: the goroutine of a
// WebSocket read burst becomes it once it has handed the connection back to
// the poller (engineio.Deferrer), any other is started for it. Writes go to
// the session's bounded queue, drained by the session's one writer at a
// time: a writer goroutine, the pending polling GET, or, for a lone reply
// or a broadcast while no other handler waits to run, on an idle
// WebSocket, the goroutine that sends it (Session.SendNow, Socket.Deliver).
// The system calls of a WebSocket's reads and writes are raw (the runtime
// does not see them; they never block), so that the runtime's monitor
// thread can sleep between bursts (engineio/writenow_linux.go). While a
// socket's connection handlers run, its connection is held
// (engineio.Session.Hold): the CONNECT answer, and whatever is sent
// meanwhile, leave once they return or one awaits an acknowledgement, so
// that a connected client finds their rooms joined, as in Node.js. Every
// goroutine the server starts is counted, and Shutdown waits for them (for
// at most its context).
//
// Lock order (a lock may be taken while holding those above it, never the
// reverse):
//
//	Server.mu
//	ParentNamespace.mu
//	Namespace.mu
//
// client.mu, Socket.mu, dispatcher.mu, Store.mu, the adapter's lock and the
// engineio locks are leaves: nothing else is locked, no I/O is done and no
// callback is called while one is held; within engineio, a Session's mu is
// held while the server's heartbeat schedule is locked (heartbeat.go),
// never the reverse.
