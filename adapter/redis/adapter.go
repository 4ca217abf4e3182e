package redis

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/adapter/redis/wire"
	"github.com/roomcast/roomcast/engineio"
	"github.com/roomcast/roomcast/parser"
)

// Adapter is the Redis adapter of one namespace. All methods are safe for
// concurrent use. Besides adapter.Adapter it offers AllRooms.
type Adapter struct {
	node     *node
	ns       adapter.Namespace
	name     string
	uid      string // this adapter's id in the cluster, as the Node.js adapter's uid2(6)
	ch       wire.Channels
	pattern  string
	specific string // this adapter's own response channel
	opts     *Options
	log      *slog.Logger
	mem      *adapter.Memory // local room index and local delivery
	closed   atomic.Bool

	// ackIDs numbers the packets of broadcasts with acks that other servers
	// ask for. The namespace's own counter is not reachable from here, so
	// these start at 2^52, far above any id it will hand out, and stay
	// below 2^53 (the largest id a JavaScript client reads exactly).
	ackIDs atomic.Uint64

	mu       sync.Mutex
	rooms    map[adapter.Room]struct{} // the rooms with local members (kept by mem's hooks)
	requests map[string]*pending       // FetchSockets, AllRooms, ServerSideEmit in flight
	acks     map[string]*ackWait       // BroadcastWithAck in flight
	timers   map[*time.Timer]struct{}  // forgetting the acks of remote broadcasts

	// Server-side events run on their own goroutine, one at a time and in
	// order, so that a slow handler does not hold up the subscriber.
	events chan func()
	quit   chan struct{}
}

var _ adapter.Adapter = (*Adapter)(nil)

// eventQueue bounds the server-side events waiting for their handlers.
const eventQueue = 1024

const firstRemoteAckID = 1 << 52

func newAdapter(n *node, ns adapter.Namespace) *Adapter {
	a := &Adapter{
		node:     n,
		ns:       ns,
		name:     ns.Name(),
		uid:      newID(6),
		ch:       wire.NewChannels(n.f.opts.Key, ns.Name()),
		opts:     &n.f.opts,
		log:      n.f.opts.Logger,
		rooms:    make(map[adapter.Room]struct{}),
		requests: make(map[string]*pending),
		acks:     make(map[string]*ackWait),
		timers:   make(map[*time.Timer]struct{}),
		events:   make(chan func(), eventQueue),
		quit:     make(chan struct{}),
	}
	a.pattern = a.ch.Pattern()
	a.specific = a.ch.SpecificResponse(a.uid)
	a.ackIDs.Store(firstRemoteAckID)
	a.mem = adapter.NewMemory(ns, adapter.Hooks{
		OnCreateRoom: func(r adapter.Room) {
			a.mu.Lock()
			a.rooms[r] = struct{}{}
			a.mu.Unlock()
		},
		OnDeleteRoom: func(r adapter.Room) {
			a.mu.Lock()
			delete(a.rooms, r)
			a.mu.Unlock()
		},
	})
	go a.runEvents()
	return a
}

// channels returns the channels (and the pattern) this adapter listens to.
func (a *Adapter) channels() []string {
	return []string{a.pattern, a.ch.Request, a.ch.Response, a.specific}
}

// UID returns the id this adapter has in the cluster.
func (a *Adapter) UID() string { return a.uid }

// The local room index: the in-memory adapter's.

// AddAll puts a local socket in rooms.
func (a *Adapter) AddAll(m adapter.Member, rooms ...adapter.Room) { a.mem.AddAll(m, rooms...) }

// Del removes a local socket from a room.
func (a *Adapter) Del(id string, room adapter.Room) { a.mem.Del(id, room) }

// DelAll removes a local socket from all its rooms.
func (a *Adapter) DelAll(id string) { a.mem.DelAll(id) }

// SocketRooms returns the rooms of a local socket.
func (a *Adapter) SocketRooms(id string) []adapter.Room { return a.mem.SocketRooms(id) }

// Sockets returns the ids of the local sockets opts targets (the Node.js
// adapter's sockets() is local too).
func (a *Adapter) Sockets(opts adapter.BroadcastOptions) []string { return a.mem.Sockets(opts) }

// Rooms returns the rooms with local members; AllRooms asks the cluster.
func (a *Adapter) Rooms() []adapter.Room { return a.mem.Rooms() }

func (a *Adapter) hasRoom(r adapter.Room) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.rooms[r]
	return ok
}

// Broadcast delivers p to the local sockets opts targets, then publishes it
// to the other servers (unless opts.Flags.Local). Local delivery happens
// even when publishing fails; the error says why the others were not reached.
func (a *Adapter) Broadcast(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) error {
	if err := a.mem.Broadcast(ctx, p, opts); err != nil || opts.Flags.Local {
		return err
	}
	payload, err := wire.AppendEnvelope(nil, &wire.Envelope{
		UID:    a.uid,
		Packet: wire.Packet{Data: p.Data, Attachments: p.Attachments, Nsp: a.name, ID: p.ID, HasID: p.HasID},
		Opts:   wireOpts(opts, true),
	})
	if err != nil {
		return err
	}
	channel := a.ch.Broadcast
	if len(opts.Rooms) == 1 {
		channel = a.ch.Room(string(opts.Rooms[0]))
	}
	return a.node.publish(ctx, channel, payload)
}

// AddSockets makes the targeted sockets of every server join rooms. The
// local ones join at once; the request is published for the others, and
// this adapter ignores its own copy.
func (a *Adapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	if err := a.mem.AddSockets(ctx, opts, rooms); err != nil || opts.Flags.Local {
		return err
	}
	return a.publishRequest(ctx, &wire.Request{Type: wire.RemoteJoin, Rooms: roomStrings(rooms)}, opts)
}

// DelSockets makes the targeted sockets of every server leave rooms.
func (a *Adapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	if err := a.mem.DelSockets(ctx, opts, rooms); err != nil || opts.Flags.Local {
		return err
	}
	return a.publishRequest(ctx, &wire.Request{Type: wire.RemoteLeave, Rooms: roomStrings(rooms)}, opts)
}

// DisconnectSockets disconnects the targeted sockets of every server.
func (a *Adapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, close bool) error {
	if err := a.mem.DisconnectSockets(ctx, opts, close); err != nil || opts.Flags.Local {
		return err
	}
	return a.publishRequest(ctx, &wire.Request{Type: wire.RemoteDisconnect, Close: close}, opts)
}

func (a *Adapter) publishRequest(ctx context.Context, q *wire.Request, opts adapter.BroadcastOptions) error {
	q.UID = a.uid
	o := wireOpts(opts, false)
	q.Opts = &o
	payload, err := wire.AppendRequest(nil, q)
	if err != nil {
		return err
	}
	return a.node.publish(ctx, a.ch.Request, payload)
}

// ServerCount returns the number of servers serving this namespace, this
// one included: the subscribers of the request channel.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	if a.closed.Load() {
		return 0, adapter.ErrClosed
	}
	return a.node.numSub(ctx, a.ch.Request)
}

// FetchSockets describes the targeted sockets of every server. When some
// servers do not answer within the request timeout (or ctx), it returns
// what it has with a *TimeoutError (or ctx's error).
func (a *Adapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	local, err := a.mem.FetchSockets(ctx, opts)
	if err != nil || opts.Flags.Local {
		return local, err
	}
	servers, err := a.ServerCount(ctx)
	if err != nil || servers <= 1 {
		return local, err
	}
	o := wireOpts(opts, false)
	q := &wire.Request{UID: a.uid, RequestID: newID(6), Type: wire.RemoteFetch, Opts: &o}
	remote := []adapter.SocketInfo{}
	err = a.ask(ctx, "fetchSockets", q, servers-1, func(s *wire.Response) {
		if socks, err := wire.DecodeSockets(s.Sockets); err == nil {
			remote = append(remote, socks...)
		}
	})
	return append(local, remote...), err
}

// AllRooms returns the rooms that have members on any server.
func (a *Adapter) AllRooms(ctx context.Context) ([]adapter.Room, error) {
	if a.closed.Load() {
		return nil, adapter.ErrClosed
	}
	rooms := a.mem.Rooms()
	servers, err := a.ServerCount(ctx)
	if err != nil || servers <= 1 {
		return rooms, err
	}
	seen := make(map[adapter.Room]bool, len(rooms))
	for _, r := range rooms {
		seen[r] = true
	}
	q := &wire.Request{UID: a.uid, RequestID: newID(6), Type: wire.AllRooms}
	err = a.ask(ctx, "allRooms", q, servers-1, func(s *wire.Response) {
		for _, r := range s.Rooms {
			if !seen[adapter.Room(r)] {
				seen[adapter.Room(r)] = true
				rooms = append(rooms, adapter.Room(r))
			}
		}
	})
	return rooms, err
}

// ServerSideEmit sends data (the JSON array [event, ...args]) to the
// namespace on the other servers. Binary arguments travel as Node.js does
// them in this request, as {"type":"Buffer","data":[...]} JSON. With
// wantReplies, it waits for one reply per other server, within the request
// timeout and ctx.
func (a *Adapter) ServerSideEmit(ctx context.Context, data json.RawMessage, attachments [][]byte, wantReplies bool) ([]adapter.Reply, error) {
	if a.closed.Load() {
		return nil, adapter.ErrClosed
	}
	q := &wire.Request{UID: a.uid, Type: wire.ServerSideEmit, Data: data, Attachments: attachments}
	if !wantReplies {
		payload, err := wire.AppendRequest(nil, q)
		if err != nil {
			return nil, err
		}
		return []adapter.Reply{}, a.node.publish(ctx, a.ch.Request, payload)
	}
	servers, err := a.ServerCount(ctx)
	if err != nil || servers <= 1 {
		return []adapter.Reply{}, err
	}
	q.RequestID = newID(6)
	replies := []adapter.Reply{}
	err = a.ask(ctx, "serverSideEmit", q, servers-1, func(s *wire.Response) {
		replies = append(replies, replyOf(s.Data, nil))
	})
	return replies, err
}

// replyOf makes the reply of a response's single value (nil: no argument).
func replyOf(value json.RawMessage, atts [][]byte) adapter.Reply {
	if value == nil {
		return adapter.Reply{Data: json.RawMessage("[]")}
	}
	data := make([]byte, 0, len(value)+2)
	data = append(append(append(data, '['), value...), ']')
	return adapter.Reply{Data: data, Attachments: atts}
}

// Close unsubscribes the namespace and stops the adapter's goroutines.
// Requests in flight end with adapter.ErrClosed. The room index stays
// usable for the sockets still leaving.
func (a *Adapter) Close() error {
	if a.closed.Swap(true) {
		return nil
	}
	a.mem.Close()
	a.failPending(adapter.ErrClosed)
	close(a.quit) // not waited for: Close may be called from an event handler
	a.mu.Lock()
	for t := range a.timers {
		t.Stop()
	}
	clear(a.timers)
	a.mu.Unlock()
	a.node.detach(a)
	return nil
}

// runEvents runs the server-side event handlers, in order.
func (a *Adapter) runEvents() {
	for {
		select {
		case <-a.quit:
			return
		case fn := <-a.events:
			fn()
		}
	}
}

func wireOpts(opts adapter.BroadcastOptions, withFlags bool) wire.Opts {
	o := wire.Opts{Rooms: roomStrings(opts.Rooms), Except: roomStrings(opts.Except)}
	if withFlags {
		o.Flags = wire.Flags{Volatile: opts.Flags.Volatile, Compress: opts.Flags.Compress}
	}
	return o
}

func localOpts(o *wire.Opts) adapter.BroadcastOptions {
	if o == nil {
		return adapter.BroadcastOptions{}
	}
	out := adapter.BroadcastOptions{Flags: adapter.Flags{
		Volatile: o.Flags.Volatile, Compress: o.Flags.Compress,
		Timeout: time.Duration(o.Flags.Timeout) * time.Millisecond,
	}}
	for _, r := range o.Rooms {
		out.Rooms = append(out.Rooms, adapter.Room(r))
	}
	for _, r := range o.Except {
		out.Except = append(out.Except, adapter.Room(r))
	}
	return out
}

func roomStrings(rooms []adapter.Room) []string {
	out := make([]string, len(rooms))
	for i, r := range rooms {
		out[i] = string(r)
	}
	return out
}

// encodeFrames encodes p once into the Engine.IO frames every target shares.
func encodeFrames(p *parser.Packet) []engineio.Frame {
	text, atts := parser.AppendEncode([]byte{'0' + byte(engineio.PacketMessage)}, p)
	frames := make([]engineio.Frame, 1, 1+len(atts))
	frames[0] = engineio.Frame{Data: text}
	for _, b := range atts {
		frames = append(frames, engineio.BinaryMessage(b))
	}
	return frames
}
