package roomcast

// How the server is put together, for those who change it.
//
// Layers, each one job: engineio.Server owns sessions and transports; a
// client (client.go) is one Engine.IO session seen from Socket.IO, decoding
// packets and routing them to its sockets, one per namespace; a Namespace
// holds its sockets, middlewares and handlers; the namespace's
// adapter.Adapter owns the room index and carries broadcasts.
//
// Goroutines: the transport's reader (a WebSocket's read loop, or the
// goroutine of a polling POST) decodes packets, resolves acknowledgements and
// queues events; it never runs user code. Each socket has a dispatcher that
// runs its handlers in order on a goroutine that exists only while there is
// work. Writes go to the session's bounded queue, drained by the session's
// one writer. Every goroutine the server starts is counted, and Shutdown
// waits for them.
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
// callback is called while one is held.
