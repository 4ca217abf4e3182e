package roomcast

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/parser"
)

// Middleware admits or refuses a socket that connects to a namespace. It runs
// before the connection is accepted, in the order added; the first error
// refuses the connection with a connect_error (see ConnectError). ctx ends if
// the client goes away meanwhile.
type Middleware func(ctx context.Context, s *Socket) error

// ServerSideHandler handles an event sent by another server of the cluster
// with ServerSideEmit; ack is nil when the sender expects no reply.
type ServerSideHandler func(e *Event, ack func(args ...any))

// Namespace is a communication channel with its own sockets, rooms,
// middlewares and handlers; clients reach several over one connection.
type Namespace struct {
	srv     *Server
	name    string
	parent  *ParentNamespace // set for the children of a dynamic namespace
	adapter adapter.Adapter
	ackIDs  atomic.Uint64

	mu           sync.RWMutex
	sockets      map[string]*Socket // connected sockets
	middlewares  []Middleware
	onConnection []func(*Socket)
	serverSide   map[string][]ServerSideHandler
}

func newNamespace(srv *Server, name string, parent *ParentNamespace) *Namespace {
	ns := &Namespace{
		srv:        srv,
		name:       name,
		parent:     parent,
		sockets:    make(map[string]*Socket),
		serverSide: make(map[string][]ServerSideHandler),
	}
	ns.adapter = srv.opts.Adapter(nsAdapterView{ns})
	return ns
}

// Name returns the namespace's name, such as "/" or "/admin".
func (ns *Namespace) Name() string { return ns.name }

// Adapter returns the namespace's adapter.
func (ns *Namespace) Adapter() adapter.Adapter { return ns.adapter }

// Use adds a middleware run for every socket that connects.
func (ns *Namespace) Use(m Middleware) {
	ns.mu.Lock()
	ns.middlewares = append(ns.middlewares, m)
	ns.mu.Unlock()
}

// OnConnection adds a handler called for every socket admitted to the
// namespace, before any of the socket's events: register the socket's
// handlers here. The answer that tells the client it is connected, and
// whatever is sent to the connection meanwhile, leave once the connection
// handlers have returned, so that a connected client finds the rooms they
// joined, as with the Node.js server. A handler that is still running after
// ConnectHoldLimit, or that awaits an acknowledgement from the client, lets
// them leave at once. The hold is the connection's: what other namespaces of
// the same client send waits too, at most that long.
func (ns *Namespace) OnConnection(h func(*Socket)) {
	ns.mu.Lock()
	ns.onConnection = append(ns.onConnection, h)
	ns.mu.Unlock()
}

// OnServerSideEmit adds a handler for an event that other servers send with
// ServerSideEmit.
func (ns *Namespace) OnServerSideEmit(event string, h ServerSideHandler) {
	ns.mu.Lock()
	ns.serverSide[event] = append(ns.serverSide[event], h)
	ns.mu.Unlock()
}

// Socket returns the connected socket of this server with that id, or nil.
func (ns *Namespace) Socket(id string) *Socket {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.sockets[id]
}

// Sockets returns the connected sockets of this server.
func (ns *Namespace) Sockets() []*Socket {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	out := make([]*Socket, 0, len(ns.sockets))
	for _, s := range ns.sockets {
		out = append(out, s)
	}
	return out
}

// Len returns the number of connected sockets of this server.
func (ns *Namespace) Len() int {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return len(ns.sockets)
}

func (ns *Namespace) nextAckID() uint64 { return ns.ackIDs.Add(1) - 1 }

// The broadcast operator's methods, on every socket of the namespace.

// To returns an operator targeting rooms.
func (ns *Namespace) To(rooms ...Room) BroadcastOperator { return newOperator(ns).To(rooms...) }

// In is the same as To.
func (ns *Namespace) In(rooms ...Room) BroadcastOperator { return ns.To(rooms...) }

// Except returns an operator targeting every socket not in rooms.
func (ns *Namespace) Except(rooms ...Room) BroadcastOperator {
	return newOperator(ns).Except(rooms...)
}

// Volatile returns an operator whose events may be dropped for busy clients.
func (ns *Namespace) Volatile() BroadcastOperator { return newOperator(ns).Volatile() }

// Local returns an operator restricted to this server.
func (ns *Namespace) Local() BroadcastOperator { return newOperator(ns).Local() }

// Compress returns an operator with the compression flag set.
func (ns *Namespace) Compress(c bool) BroadcastOperator { return newOperator(ns).Compress(c) }

// Timeout returns an operator whose acknowledgements are awaited at most d.
func (ns *Namespace) Timeout(d time.Duration) BroadcastOperator {
	return newOperator(ns).Timeout(d)
}

// Emit sends an event to every socket of the namespace.
func (ns *Namespace) Emit(event string, args ...any) error {
	return newOperator(ns).Emit(event, args...)
}

// EmitWithAck sends an event to every socket and waits for their acknowledgements.
func (ns *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]Reply, error) {
	return newOperator(ns).EmitWithAck(ctx, event, args...)
}

// FetchSockets returns handles on every socket of the namespace.
func (ns *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return newOperator(ns).FetchSockets(ctx)
}

// SocketsJoin makes every socket join rooms.
func (ns *Namespace) SocketsJoin(ctx context.Context, rooms ...Room) error {
	return newOperator(ns).SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket leave rooms.
func (ns *Namespace) SocketsLeave(ctx context.Context, rooms ...Room) error {
	return newOperator(ns).SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket.
func (ns *Namespace) DisconnectSockets(ctx context.Context, close bool) error {
	return newOperator(ns).DisconnectSockets(ctx, close)
}

// ServerSideEmit sends an event to this namespace on the other servers of
// the cluster.
func (ns *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	data, atts, err := encodeServerSide(event, args)
	if err != nil {
		return err
	}
	_, err = ns.adapter.ServerSideEmit(ctx, data, atts, false)
	return err
}

// ServerSideEmitWithAck sends an event to the other servers and waits for one
// reply from each, or until ctx ends (then ErrTimeout with the replies that arrived).
func (ns *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Reply, error) {
	data, atts, err := encodeServerSide(event, args)
	if err != nil {
		return nil, err
	}
	raw, err := ns.adapter.ServerSideEmit(ctx, data, atts, true)
	replies := make([]Reply, 0, len(raw))
	for _, r := range raw {
		if rep, perr := replyOf(r); perr == nil {
			replies = append(replies, rep)
		}
	}
	return replies, timeoutError(err)
}

func encodeServerSide(event string, args []any) (json.RawMessage, [][]byte, error) {
	if parser.IsReservedEvent(event) {
		return nil, nil, ErrReservedEvent
	}
	return encodeArgs(event, args)
}

// onServerSide handles an event from another server.
func (ns *Namespace) onServerSide(data json.RawMessage, atts [][]byte, ack func(adapter.Reply)) {
	p := &parser.Packet{Type: parser.Event, Namespace: ns.name, Data: data, Attachments: atts}
	e, err := eventOf(p)
	if err != nil {
		return
	}
	ns.mu.RLock()
	hs := ns.serverSide[e.Name]
	ns.mu.RUnlock()
	var reply func(args ...any)
	if ack != nil {
		var once sync.Once
		reply = func(args ...any) {
			once.Do(func() {
				data, atts, err := encodeArgs("", args)
				if err == nil {
					ack(adapter.Reply{Data: data, Attachments: atts})
				}
			})
		}
	}
	for _, h := range hs {
		h(e, reply)
	}
}

// nsAdapterView is the namespace as its adapter sees it.
type nsAdapterView struct{ ns *Namespace }

func (v nsAdapterView) Name() string { return v.ns.name }
func (v nsAdapterView) OnServerSideEmit(data json.RawMessage, atts [][]byte, ack func(adapter.Reply)) {
	v.ns.onServerSide(data, atts, ack)
}

// middlewaresAndHandlers returns what applies to a connecting socket: a
// dynamic parent's first, then the namespace's own.
func (ns *Namespace) middlewaresAndHandlers() ([]Middleware, []func(*Socket)) {
	var mws []Middleware
	var hs []func(*Socket)
	if ns.parent != nil {
		mws, hs = ns.parent.ns.middlewaresAndHandlers()
	}
	ns.mu.RLock()
	mws = append(mws[:len(mws):len(mws)], ns.middlewares...)
	hs = append(hs[:len(hs):len(hs)], ns.onConnection...)
	ns.mu.RUnlock()
	return mws, hs
}

// admit runs on the new socket's dispatcher: the middlewares, then, if they
// all agree and the client is still there, the connection.
func (ns *Namespace) admit(s *Socket) {
	mws, handlers := ns.middlewaresAndHandlers()
	for _, m := range mws {
		err := ns.runMiddleware(m, s)
		if err != nil {
			s.mu.Lock()
			s.state = socketClosed
			s.endContextLocked()
			s.mu.Unlock()
			s.client.remove(s)
			ce := connectErrorOf(err)
			s.client.write(encodeFrames(&parser.Packet{Type: parser.ConnectError, Namespace: ns.name, Data: ce.payload()}), false)
			return
		}
	}
	s.mu.Lock()
	if s.state != socketPending {
		s.mu.Unlock()
		return // the client left while the middlewares ran
	}
	s.state = socketConnected
	s.mu.Unlock()
	// The client has joined a namespace in time: the timer is done, and is
	// not kept for the life of the connection. (A refused CONNECT leaves it
	// running, as the Node.js server does.)
	s.client.stopConnectTimer()

	ns.mu.Lock()
	ns.sockets[s.id] = s
	ns.mu.Unlock()
	ns.adapter.AddAll(s, Room(s.id))
	connect := append(append([]byte(`{"sid":`), quote(s.id)...), '}')
	// The answer leaves once the connection handlers have returned, with
	// what they sent after it: in the Node.js server they run in the same
	// tick as the answer is sent, so a client that has been told it is
	// connected finds their rooms joined, whatever another goroutine
	// broadcasts meanwhile. A handler that waits for an acknowledgement
	// from this client ends the hold (releaseConnect), as does one that
	// takes longer than ConnectHoldLimit.
	s.holdConnect()
	p := &parser.Packet{Type: parser.Connect, Namespace: ns.name, Data: connect}
	s.client.write(encodeFrames(p), false)
	// A handler may run for good (a loop that streams to its socket): the
	// hold must not outlive a handler's quick part.
	limit := time.AfterFunc(ConnectHoldLimit, s.releaseConnect)
	for _, h := range handlers {
		ns.runConnectionHandler(h, s)
	}
	limit.Stop()
	s.releaseConnect()
	s.trimHandlers()
}

// ConnectHoldLimit bounds how long the connection handlers of a socket hold
// its connection's writes (see OnConnection).
const ConnectHoldLimit = 100 * time.Millisecond

func (ns *Namespace) runMiddleware(m Middleware, s *Socket) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.recoverHandlerValue(v, "middleware")
			err = &ConnectError{Message: "server error"}
		}
	}()
	return m(s.Context(), s)
}

func (ns *Namespace) runConnectionHandler(h func(*Socket), s *Socket) {
	defer s.recoverHandler("connection")
	h(s)
}

// remove forgets a disconnected socket.
func (ns *Namespace) remove(s *Socket) {
	ns.mu.Lock()
	delete(ns.sockets, s.id)
	empty := len(ns.sockets) == 0
	ns.mu.Unlock()
	if empty && ns.parent != nil && ns.srv.opts.CleanupEmptyChildNamespaces {
		ns.parent.removeChildIfEmpty(ns)
	}
}

func quote(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
