package roomcast

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/engineio"
	"github.com/roomcast/roomcast/parser"
)

// Room names a group of sockets of a namespace.
type Room = adapter.Room

// EventHandler handles one event. Handlers of one socket run one at a time,
// in the order the events arrived; a handler may block (on EmitWithAck, say)
// without stalling the connection, but the socket's next events wait for it.
type EventHandler func(e *Event)

// EventMiddleware runs before the handlers of an incoming event's name (after
// the catch-all handlers, as in the Node.js server); an error drops the
// event, answers its acknowledgement (if any) with {"message": err}, and is
// passed to the socket's error handlers.
type EventMiddleware func(e *Event) error

type socketState uint8

const (
	socketPending   socketState = iota // namespace middlewares are running
	socketConnected                    // admitted: CONNECT was sent
	socketClosed
)

// Socket is one client's presence in one namespace. Its methods are safe for
// concurrent use.
type Socket struct {
	id        string
	ns        *Namespace
	client    *client
	auth      json.RawMessage
	handshake struct {
		once sync.Once
		h    *Handshake
	}
	data  Store
	tasks dispatcher

	mu          sync.Mutex
	state       socketState
	handlers    []namedHandler // few per socket: a slice is leaner than a map
	anyHandlers []EventHandler
	outgoing    []EventHandler
	hasOutgoing atomic.Bool // len(outgoing) > 0, read without mu by every delivery
	// connectHeld: the connection is held while the connection handlers
	// run (holdConnect), and this socket is to release it.
	connectHeld     atomic.Bool
	middlewares     []EventMiddleware
	onDisconnecting []func(Reason)
	onDisconnect    []func(Reason)
	onError         []func(error)
	acks            map[uint64]func(adapter.Reply)
	// ctx is made on first use (Context): most sockets never need one.
	ctx    context.Context
	cancel context.CancelFunc
}

func newSocketID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func newSocket(ns *Namespace, c *client, auth json.RawMessage) *Socket {
	if len(auth) == 0 {
		auth = json.RawMessage("{}")
	}
	s := &Socket{
		id:     newSocketID(),
		ns:     ns,
		client: c,
		auth:   auth,
	}
	s.tasks.srv = ns.srv
	return s
}

// ID returns the socket's id: 20 random URL-safe characters, also the name
// of a room that holds this socket alone.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake returns how the socket connected. It is built on first use:
// most sockets never need one, and it is not small.
func (s *Socket) Handshake() *Handshake {
	s.handshake.once.Do(func() { s.handshake.h = newHandshake(s.client, s.auth) })
	return s.handshake.h
}

// Auth returns the auth payload of the socket's CONNECT packet, exactly as
// the client sent it ({} when it sent none): the same as Handshake().Auth.
func (s *Socket) Auth() json.RawMessage { return s.auth }

// namedHandler is one handler registered with On.
type namedHandler struct {
	event string
	h     EventHandler
}

// Data returns the socket's data store.
func (s *Socket) Data() *Store { return &s.data }

// Context ends when the socket disconnects.
func (s *Socket) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.state == socketClosed {
			s.cancel()
		}
	}
	return s.ctx
}

// endContextLocked ends the socket's context, if it has one, once its
// state is closed. The caller holds s.mu.
func (s *Socket) endContextLocked() {
	if s.cancel != nil {
		s.cancel()
	}
}

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == socketConnected
}

// Transport returns the transport the connection uses now.
func (s *Socket) Transport() engineio.Transport { return s.client.conn.Transport() }

// Rooms returns the rooms the socket is in, its own id room included. It is
// empty once the socket has left them at disconnection.
func (s *Socket) Rooms() []Room { return s.ns.adapter.SocketRooms(s.id) }

// Join puts the socket in rooms. It does nothing once the socket is closed.
func (s *Socket) Join(rooms ...Room) {
	s.mu.Lock()
	closed := s.state == socketClosed
	s.mu.Unlock()
	if !closed && len(rooms) > 0 {
		s.ns.adapter.AddAll(s, rooms...)
	}
}

// Leave takes the socket out of rooms.
func (s *Socket) Leave(rooms ...Room) {
	for _, r := range rooms {
		s.ns.adapter.Del(s.id, r)
	}
}

// On adds a handler for the event name.
func (s *Socket) On(event string, h EventHandler) {
	s.mu.Lock()
	s.handlers = append(s.handlers, namedHandler{event, h})
	s.mu.Unlock()
}

// trimHandlers gives the handler list, grown by appends while the
// connection handlers registered it, its exact size: it is kept for the
// life of the socket, and the spare capacity of doubling was about half of
// an idle socket's memory for handlers.
func (s *Socket) trimHandlers() {
	s.mu.Lock()
	if cap(s.handlers) > len(s.handlers) {
		s.handlers = slices.Clone(s.handlers)
	}
	s.mu.Unlock()
}

// Off removes every handler of the event name.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	s.handlers = slices.DeleteFunc(slices.Clone(s.handlers), func(n namedHandler) bool { return n.event == event })
	s.mu.Unlock()
}

// OnAny adds a handler called for every incoming event, before the
// handlers of its name.
func (s *Socket) OnAny(h EventHandler) {
	s.mu.Lock()
	s.anyHandlers = append(s.anyHandlers, h)
	s.mu.Unlock()
}

// PrependAny adds a catch-all handler that runs before the others.
func (s *Socket) PrependAny(h EventHandler) {
	s.mu.Lock()
	s.anyHandlers = append([]EventHandler{h}, s.anyHandlers...)
	s.mu.Unlock()
}

// OffAny removes every catch-all handler.
func (s *Socket) OffAny() {
	s.mu.Lock()
	s.anyHandlers = nil
	s.mu.Unlock()
}

// OnAnyOutgoing adds a handler called with every event sent to this socket,
// broadcasts included, just before it is written. It must be quick: it runs
// on the emitting goroutine.
func (s *Socket) OnAnyOutgoing(h EventHandler) {
	s.mu.Lock()
	s.outgoing = append(s.outgoing, h)
	s.hasOutgoing.Store(true)
	s.mu.Unlock()
}

// OffAnyOutgoing removes every outgoing catch-all handler.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	s.outgoing = nil
	s.hasOutgoing.Store(false)
	s.mu.Unlock()
}

// Use adds a middleware that sees every incoming event before its handlers.
func (s *Socket) Use(m EventMiddleware) {
	s.mu.Lock()
	s.middlewares = append(s.middlewares, m)
	s.mu.Unlock()
}

// OnDisconnecting adds a hook called when the socket is about to leave its
// rooms: Rooms still lists them.
func (s *Socket) OnDisconnecting(h func(Reason)) {
	s.mu.Lock()
	s.onDisconnecting = append(s.onDisconnecting, h)
	s.mu.Unlock()
}

// OnDisconnect adds a hook called once the socket has disconnected and left
// its rooms.
func (s *Socket) OnDisconnect(h func(Reason)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, h)
	s.mu.Unlock()
}

// OnError adds a hook called with errors of this socket: events refused by a
// middleware, a handler's panic.
func (s *Socket) OnError(h func(error)) {
	s.mu.Lock()
	s.onError = append(s.onError, h)
	s.mu.Unlock()
}

// Emit sends an event to this socket's client.
func (s *Socket) Emit(event string, args ...any) error { return s.emitter().Emit(event, args...) }

// EmitWithAck sends an event and waits for the client's acknowledgement, or
// until ctx ends or the socket disconnects.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Reply, error) {
	return s.emitter().EmitWithAck(ctx, event, args...)
}

// Timeout returns an emitter whose acknowledgements are awaited at most d.
func (s *Socket) Timeout(d time.Duration) SocketEmitter { return s.emitter().Timeout(d) }

// Volatile returns an emitter whose events are dropped if the client cannot
// take them now.
func (s *Socket) Volatile() SocketEmitter { return s.emitter().Volatile() }

// Compress returns an emitter with the compression flag set.
func (s *Socket) Compress(c bool) SocketEmitter { return s.emitter().Compress(c) }

func (s *Socket) emitter() SocketEmitter { return SocketEmitter{s: s} }

// To returns an operator targeting rooms, without this socket.
func (s *Socket) To(rooms ...Room) BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is the same as To.
func (s *Socket) In(rooms ...Room) BroadcastOperator { return s.To(rooms...) }

// Except returns an operator targeting every socket but this one and those in rooms.
func (s *Socket) Except(rooms ...Room) BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Broadcast returns an operator targeting every socket of the namespace but this one.
func (s *Socket) Broadcast() BroadcastOperator {
	return newOperator(s.ns).Except(Room(s.id))
}

// Disconnect disconnects the socket from its namespace; with close, the
// whole connection (every namespace of this client) is closed.
func (s *Socket) Disconnect(close bool) {
	if close {
		s.client.disconnectAll()
		return
	}
	if !s.Connected() {
		return
	}
	s.writePacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.ns.name}, false)
	s.close(ReasonServerNamespaceDisconnect)
}

// writePacket encodes p and writes it to this socket's connection.
func (s *Socket) writePacket(p *parser.Packet, volatile bool) error {
	frames := encodeFrames(p)
	s.notifyOutgoing(p)
	if !volatile {
		// A packet for this socket alone (an ack, an emit): written by this
		// goroutine when the connection is idle, rather than by a writer
		// started for it (Deliver does the same for broadcasts, but only
		// while the server is not busy).
		return s.client.conn.SendNow(frames...)
	}
	return s.client.write(frames, volatile)
}

// encodeFrames encodes a packet as Engine.IO frames: the text packet, then
// one binary frame per attachment.
func encodeFrames(p *parser.Packet) []engineio.Frame {
	text, atts := parser.AppendEncode([]byte{'4'}, p)
	frames := make([]engineio.Frame, 1+len(atts))
	frames[0] = engineio.Frame{Data: text}
	for i, a := range atts {
		frames[1+i] = engineio.BinaryMessage(a)
	}
	return frames
}

func (s *Socket) notifyOutgoing(p *parser.Packet) {
	if p.Type != parser.Event && p.Type != parser.BinaryEvent || !s.hasOutgoing.Load() {
		return
	}
	s.mu.Lock()
	hs := s.outgoing
	s.mu.Unlock()
	if len(hs) == 0 {
		return
	}
	e, err := eventOf(p)
	if err != nil {
		return
	}
	e.socket = s
	for _, h := range hs {
		h(e)
	}
}

// eventOf splits an event packet into an Event.
func eventOf(p *parser.Packet) (*Event, error) {
	name, err := p.EventName()
	if err != nil {
		return nil, err
	}
	args, err := p.Args()
	if err != nil {
		return nil, err
	}
	return &Event{Name: name, Args: args, Attachments: p.Attachments, ackID: p.ID, hasAck: p.HasID}, nil
}

// Deliver implements adapter.Member: a broadcast's shared frames.
//
// Who writes them depends on what else the server has to do. When no
// handler is waiting to run (the one broadcasting aside), the broadcasting
// goroutine writes to each idle connection itself, as SendNow does: a
// broadcast now and then costs no writer goroutine per socket. When
// handlers are waiting, as when a client sends broadcasts faster than one
// goroutine could write them, the frames go to the connections' writers:
// those run in parallel, and each sends what has piled up for its
// connection in one system call, which is what keeps a busy server's cost
// per delivery low. Written inline, every delivery would be a system call
// of its own.
func (s *Socket) Deliver(p *parser.Packet, frames []engineio.Frame, flags adapter.Flags, onAck func(adapter.Reply)) {
	if onAck != nil {
		s.registerAck(p.ID, onAck)
	}
	s.notifyOutgoing(p)
	if !flags.Volatile && !flags.Queued && s.ns.srv.tasks.Load() <= 1 {
		s.client.conn.SendNow(frames...)
		return
	}
	s.client.write(frames, flags.Volatile)
}

// ForgetAck implements adapter.Member.
func (s *Socket) ForgetAck(id uint64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// Describe implements adapter.Member.
func (s *Socket) Describe() (*Handshake, map[string]any) { return s.Handshake(), s.data.Snapshot() }

// holdConnect holds the connection's writes (engineio.Session.Hold) until
// releaseConnect.
func (s *Socket) holdConnect() {
	// Held first, then marked: the socket is in its rooms already, and a
	// broadcast with an acknowledgement may call releaseConnect at any
	// time. Marked first, such a call could release before the hold and
	// leave it held for good; this way an early call finds nothing to
	// release, and the hold is released later.
	s.client.conn.Hold()
	s.connectHeld.Store(true)
}

// releaseConnect ends holdConnect's hold, once: when the connection
// handlers have returned, or earlier when an acknowledgement is awaited
// from the client, which could not answer a packet held back, or when they
// have run for ConnectHoldLimit.
func (s *Socket) releaseConnect() {
	if s.connectHeld.CompareAndSwap(true, false) {
		s.client.conn.Release()
	}
}

func (s *Socket) registerAck(id uint64, fn func(adapter.Reply)) {
	s.releaseConnect()
	s.mu.Lock()
	if s.acks == nil {
		s.acks = make(map[uint64]func(adapter.Reply))
	}
	s.acks[id] = fn
	s.mu.Unlock()
}

// onPacket handles a packet for this socket; it runs on the read loop, so
// it only resolves acks and queues events, linking the socket's dispatcher
// to ready if it has to start (see dispatcher.push).
func (s *Socket) onPacket(p *parser.Packet, ready **dispatcher) {
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		e, err := eventOf(p)
		if err != nil {
			return
		}
		e.socket = s
		if !s.Connected() {
			return
		}
		if !s.tasks.push(func() { s.dispatch(e) }, false, ready) {
			s.ns.srv.opts.Logger.Warn("roomcast: socket's event queue is full; disconnecting",
				"sid", s.id, "nsp", s.ns.name, "bound", s.ns.srv.opts.MaxPendingEvents)
			s.client.conn.Close()
		}
	case parser.Ack, parser.BinaryAck:
		s.mu.Lock()
		fn := s.acks[p.ID]
		delete(s.acks, p.ID)
		s.mu.Unlock()
		if fn != nil {
			fn(adapter.Reply{Data: p.Data, Attachments: p.Attachments})
		}
	case parser.Disconnect:
		s.close(ReasonClientNamespaceDisconnect)
	}
}

// dispatch runs an event through the middlewares and handlers.
func (s *Socket) dispatch(e *Event) {
	defer s.recoverHandler(e.Name)
	s.mu.Lock()
	mws := s.middlewares
	anys := s.anyHandlers
	all := s.handlers // never modified in place: On appends, Off copies
	s.mu.Unlock()
	// As in the Node.js server, catch-all handlers see every event, and
	// middlewares gate only the handlers of its name.
	for _, h := range anys {
		h(e)
	}
	for _, m := range mws {
		if err := m(e); err != nil {
			if e.hasAck {
				e.Ack(map[string]string{"message": err.Error()})
			}
			s.reportError(err)
			return
		}
	}
	for _, n := range all {
		if n.event == e.Name {
			n.h(e)
		}
	}
}

// recoverHandler, deferred around user code, turns a panic into a log line
// and an error for the socket's error hooks: one handler's bug must not take
// down the server or other sockets.
func (s *Socket) recoverHandler(what string) {
	if v := recover(); v != nil {
		s.recoverHandlerValue(v, what)
	}
}

func (s *Socket) recoverHandlerValue(v any, what string) {
	s.ns.srv.opts.Logger.Error("roomcast: recovered a panic in a handler",
		"sid", s.id, "nsp", s.ns.name, "event", what, "panic", v, "stack", string(debug.Stack()))
	s.reportError(fmt.Errorf("roomcast: handler panic: %v", v))
}

func (s *Socket) reportError(err error) {
	s.mu.Lock()
	hs := s.onError
	s.mu.Unlock()
	for _, h := range hs {
		h(err)
	}
}

// close disconnects the socket: at once for its state and context, then, on
// its dispatcher after the events already queued, the disconnecting hooks,
// the leaving of its rooms and the disconnect hooks.
func (s *Socket) close(reason Reason) {
	s.mu.Lock()
	prev := s.state
	s.state = socketClosed
	acks := s.acks
	s.acks = nil
	s.endContextLocked()
	s.mu.Unlock()
	if prev == socketClosed {
		return
	}
	s.client.remove(s)
	_ = acks // waiters see the context end
	if prev != socketConnected {
		return // never admitted: no hooks, no rooms
	}
	s.tasks.push(func() {
		s.mu.Lock()
		before := s.onDisconnecting
		s.mu.Unlock()
		for _, h := range before {
			s.runHook(h, reason, "disconnecting")
		}
		s.ns.adapter.DelAll(s.id)
		s.ns.remove(s)
		s.mu.Lock()
		after := s.onDisconnect
		s.mu.Unlock()
		for _, h := range after {
			s.runHook(h, reason, "disconnect")
		}
	}, true, nil)
}

func (s *Socket) runHook(h func(Reason), reason Reason, what string) {
	defer s.recoverHandler(what)
	h(reason)
}
