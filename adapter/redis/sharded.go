package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/adapter/redis/wire"
	"github.com/roomcast/roomcast/parser"
)

// SubscriptionMode says which channels a sharded adapter subscribes to.
// All servers of a cluster must use the same mode.
type SubscriptionMode int

const (
	// Dynamic (the default) adds a channel per public room, subscribed
	// while the room has local members: a broadcast to one room reaches
	// only the servers that have members in it. Socket-id rooms share the
	// namespace's main channel.
	Dynamic SubscriptionMode = iota
	// Static uses the main channel and the response channel only (fit for
	// many dynamic namespaces).
	Static
	// DynamicPrivate is Dynamic with a channel for socket-id rooms too
	// (fit for much one-to-one messaging).
	DynamicPrivate
)

// ShardedOptions configure the adapters NewSharded makes. The zero value
// (or nil) gives the Node.js sharded adapter's defaults.
type ShardedOptions struct {
	// ChannelPrefix starts every channel. Default "socket.io".
	ChannelPrefix string
	// SubscriptionMode, default Dynamic.
	SubscriptionMode SubscriptionMode
	// RequestTimeout bounds FetchSockets (unless the operator has its own
	// timeout), ServerSideEmit with replies, and each command. Default 5s.
	RequestTimeout time.Duration
	// Logger receives the adapter's log lines. Default slog.Default().
	Logger *slog.Logger
}

// NewSharded returns a Factory of adapters that speak the protocol of
// createShardedAdapter of @socket.io/redis-adapter 8.2+ over Redis 7
// sharded pub/sub (SSUBSCRIBE, SPUBLISH): every server of the cluster,
// Roomcast or Node.js, must use it with the same prefix and mode. In the
// default Dynamic mode a server receives the broadcasts to one public room
// only while it has members in that room.
func NewSharded(client goredis.UniversalClient, opts *ShardedOptions) adapter.Factory {
	var o ShardedOptions
	if opts != nil {
		o = *opts
	}
	setDefaults(&o.ChannelPrefix, &o.RequestTimeout, &o.Logger)
	f := &factory{client: client, sharded: true, timeout: o.RequestTimeout, logger: o.Logger,
		make: func(n *node, ns adapter.Namespace) member { return newSharded(n, ns, &o) }}
	return f.newAdapter
}

// ShardedAdapter is the sharded Redis adapter of one namespace. All
// methods are safe for concurrent use.
type ShardedAdapter struct {
	core
	mode    SubscriptionMode
	main    string // P#N#: every server subscribes
	private string // P#N#uid#: this server's responses

	// subMu serializes the changes of the room subscriptions, so that Close
	// does not race a change in flight.
	subMu sync.Mutex
	// Guarded by core.mu:
	wanted     map[adapter.Room]bool     // room channel changes not yet made
	subscribed map[adapter.Room]struct{} // room channels subscribed now
	ownRooms   map[adapter.Room]struct{} // rooms named by a local socket's id
	changing   bool                      // a goroutine is applying wanted
}

var _ adapter.Adapter = (*ShardedAdapter)(nil)

func newSharded(n *node, ns adapter.Namespace, o *ShardedOptions) *ShardedAdapter {
	main := o.ChannelPrefix + "#" + ns.Name() + "#"
	a := &ShardedAdapter{mode: o.SubscriptionMode, main: main,
		wanted:     make(map[adapter.Room]bool),
		subscribed: make(map[adapter.Room]struct{}),
		ownRooms:   make(map[adapter.Room]struct{}),
	}
	uid := randomHex(8) // as socket.io-adapter's randomId()
	a.private = main + uid + "#"
	var onRoom func(adapter.Room, bool)
	if a.mode != Static {
		onRoom = a.onRoom
	}
	a.init(n, ns, uid, main, onRoom)
	return a
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *ShardedAdapter) roomChannel(r string) string { return a.main + r + "#" }

// subscriptions returns the channels this adapter listens to now.
func (a *ShardedAdapter) subscriptions() (patterns, channels []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	channels = append(make([]string, 0, 2+len(a.subscribed)), a.main, a.private)
	for r := range a.subscribed {
		channels = append(channels, a.roomChannel(string(r)))
	}
	return nil, channels
}

// AddAll puts a local socket in rooms, noting the room of its own id: in
// Dynamic mode that room has no channel of its own.
func (a *ShardedAdapter) AddAll(m adapter.Member, rooms ...adapter.Room) {
	if a.mode == Dynamic {
		own := adapter.Room(m.ID())
		for _, r := range rooms {
			if r == own {
				a.mu.Lock()
				a.ownRooms[own] = struct{}{}
				a.mu.Unlock()
				break
			}
		}
	}
	a.mem.AddAll(m, rooms...)
}

// onRoom learns that a room appeared or vanished locally, and has its
// channel subscribed or left by a goroutine of its own: a socket's Join
// must not wait for Redis. Creations and deletions coalesce, so the work
// is bounded by the number of rooms.
func (a *ShardedAdapter) onRoom(r adapter.Room, created bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, own := a.ownRooms[r]; own {
		if !created {
			delete(a.ownRooms, r)
		}
		return
	}
	a.wanted[r] = created
	if !a.changing && !a.closed.Load() {
		a.changing = true
		go a.applySubscriptions()
	}
}

// applySubscriptions makes the room subscriptions match the rooms, until
// no change is left.
func (a *ShardedAdapter) applySubscriptions() {
	for {
		a.mu.Lock()
		var join, leave []adapter.Room
		for r, want := range a.wanted {
			_, have := a.subscribed[r]
			switch {
			case want && !have:
				join = append(join, r)
			case !want && have:
				leave = append(leave, r)
			}
		}
		clear(a.wanted)
		if len(join)+len(leave) == 0 {
			a.changing = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()

		a.subMu.Lock()
		if a.closed.Load() {
			a.subMu.Unlock()
			a.mu.Lock()
			a.changing = false
			a.mu.Unlock()
			return
		}
		if len(join) > 0 {
			if err := a.node.listen(a, a.channels(join)); err != nil {
				// go-redis keeps the channels and subscribes on reconnection.
				a.log.Warn("redis adapter: subscribing to room channels failed; will retry on reconnection", "nsp", a.name, "err", err)
			}
		}
		if len(leave) > 0 {
			a.node.unlisten(a, a.channels(leave))
		}
		a.mu.Lock()
		for _, r := range join {
			a.subscribed[r] = struct{}{}
		}
		for _, r := range leave {
			delete(a.subscribed, r)
		}
		a.mu.Unlock()
		a.subMu.Unlock()
	}
}

func (a *ShardedAdapter) channels(rooms []adapter.Room) []string {
	out := make([]string, len(rooms))
	for i, r := range rooms {
		out[i] = a.roomChannel(string(r))
	}
	return out
}

// channelOf returns where a broadcast goes: the room's channel for a
// broadcast without acks to exactly one room (in Dynamic mode, one that is
// not named like a socket id), the main channel otherwise.
func (a *ShardedAdapter) channelOf(m *wire.Message) string {
	if m.Type != wire.ClusterBroadcast || m.RequestID != "" || m.Opts == nil || len(m.Opts.Rooms) != 1 {
		return a.main
	}
	room := m.Opts.Rooms[0]
	if a.mode == DynamicPrivate || a.mode == Dynamic && wire.JSLength(room) != socketIDLength {
		return a.roomChannel(room)
	}
	return a.main
}

// socketIDLength is the length of the ids of Node.js and Roomcast sockets,
// by which the sharded adapters tell socket-id rooms apart.
const socketIDLength = 20

// send publishes m (with this adapter's uid and namespace) where it goes.
func (a *ShardedAdapter) send(ctx context.Context, m *wire.Message) error {
	m.UID, m.Nsp = a.uid, a.name
	payload, err := wire.AppendMessage(nil, m)
	if err != nil {
		return err
	}
	return a.node.publish(ctx, a.channelOf(m), payload)
}

// respond queues a response for the server requester.
func (a *ShardedAdapter) respond(requester string, m *wire.Message) {
	m.UID, m.Nsp = a.uid, a.name
	payload, err := wire.AppendMessage(nil, m)
	if err != nil {
		a.log.Debug("redis adapter: response not encodable", "nsp", a.name, "err", err)
		return
	}
	a.node.enqueue(a.roomChannel(requester), payload)
}

// receive handles a message of one of its channels: those on its own
// channel are responses, the others messages.
func (a *ShardedAdapter) receive(rm *goredis.Message) {
	payload := []byte(rm.Payload) // attachments point into it: one copy, shared read-only
	if rm.Channel != a.main && rm.Channel != a.private {
		// A room channel: not even decoded once the room has gone.
		room := rm.Channel[len(a.main) : len(rm.Channel)-1]
		if !a.hasRoom(adapter.Room(room)) {
			return
		}
	}
	m, err := wire.DecodeMessage(payload)
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed message", "nsp", a.name, "err", err)
		return
	}
	if rm.Channel == a.private || m.Type.IsResponse() {
		a.onResponse(m)
		return
	}
	if m.UID == a.uid || m.Nsp != a.name {
		return
	}
	a.onMessage(m)
}

func (a *ShardedAdapter) onMessage(m *wire.Message) {
	ctx := context.Background()
	switch m.Type {
	case wire.ClusterBroadcast:
		if len(m.Packet.Data) == 0 || m.Packet.Data[0] != '[' {
			return
		}
		if m.RequestID != "" {
			a.onBroadcastWithAck(m)
			return
		}
		p := &parser.Packet{Type: parser.Event, Namespace: a.name, Data: m.Packet.Data,
			Attachments: m.Packet.Attachments, ID: m.Packet.ID, HasID: m.Packet.HasID}
		a.mem.Broadcast(ctx, p, localOpts(m.Opts))
	case wire.ClusterSocketsJoin:
		a.mem.AddSockets(ctx, localOpts(m.Opts), toRooms(m.Rooms))
	case wire.ClusterSocketsLeave:
		a.mem.DelSockets(ctx, localOpts(m.Opts), toRooms(m.Rooms))
	case wire.ClusterDisconnectSockets:
		a.mem.DisconnectSockets(ctx, localOpts(m.Opts), m.Close)
	case wire.ClusterFetchSockets:
		infos, _ := a.mem.FetchSockets(ctx, localOpts(m.Opts))
		raw, err := wire.EncodeSockets(infos)
		if err != nil {
			return
		}
		a.respond(m.UID, &wire.Message{Type: wire.ClusterFetchSocketsResponse, RequestID: m.RequestID, Sockets: raw})
	case wire.ClusterServerSideEmit:
		var ack func(adapter.Reply)
		if m.RequestID != "" {
			var once sync.Once
			ack = func(r adapter.Reply) {
				once.Do(func() {
					first, atts := firstArg(r)
					a.respond(m.UID, &wire.Message{Type: wire.ClusterServerSideEmitResp, RequestID: m.RequestID, Data: first, Attachments: atts})
				})
			}
		}
		a.serverSideEmit(m.Data, m.Attachments, ack)
	}
}

// onBroadcastWithAck delivers another server's broadcast with acks to the
// local targets: it tells the sender how many they are, then each reply.
func (a *ShardedAdapter) onBroadcastWithAck(m *wire.Message) {
	opts := localOpts(m.Opts)
	a.deliverWithAck(m.Packet.Data, m.Packet.Attachments, opts, opts.Flags.Timeout,
		func(n int) {
			a.respond(m.UID, &wire.Message{Type: wire.ClusterBroadcastClientCount, RequestID: m.RequestID, ClientCount: n})
		},
		func(r adapter.Reply) {
			first, atts := firstArg(r)
			a.respond(m.UID, &wire.Message{Type: wire.ClusterBroadcastAck, RequestID: m.RequestID, Data: first, Attachments: atts})
		})
}

// onResponse hands a response to the request of this adapter it answers.
func (a *ShardedAdapter) onResponse(m *wire.Message) {
	p, w := a.lookup(m.RequestID)
	switch {
	case w != nil && m.Type == wire.ClusterBroadcastClientCount:
		w.clientCount(m.ClientCount)
	case w != nil && m.Type == wire.ClusterBroadcastAck:
		w.reply(replyOf(m.Data, m.Attachments))
	case p != nil && (m.Type == wire.ClusterFetchSocketsResponse || m.Type == wire.ClusterServerSideEmitResp):
		p.deliver(m)
	}
}

// Broadcast delivers p to the local sockets opts targets, then publishes it
// to the other servers (unless opts.Flags.Local). Local delivery happens
// even when publishing fails; the error says why the others were not reached.
func (a *ShardedAdapter) Broadcast(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) error {
	if err := a.mem.Broadcast(ctx, p, opts); err != nil || opts.Flags.Local {
		return err
	}
	o := wireOpts(opts, true)
	return a.send(ctx, &wire.Message{Type: wire.ClusterBroadcast, Opts: &o,
		Packet: &wire.Packet{Data: p.Data, Attachments: p.Attachments, ID: p.ID, HasID: p.HasID}})
}

// BroadcastWithAck delivers p to the targeted sockets of every server and
// waits for their acknowledgements, as Adapter.BroadcastWithAck does.
func (a *ShardedAdapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) ([]adapter.Reply, error) {
	if opts.Flags.Local || a.closed.Load() {
		return a.mem.BroadcastWithAck(ctx, p, opts)
	}
	o := wireOpts(opts, true)
	o.Flags.Timeout = a.ackTimeout(ctx, opts.Flags.Timeout).Milliseconds()
	m := &wire.Message{Type: wire.ClusterBroadcast, RequestID: randomHex(8), Opts: &o,
		Packet: &wire.Packet{Data: p.Data, Attachments: p.Attachments}}
	return a.broadcastWithAck(ctx, p, opts, m.RequestID, func(ctx context.Context) error { return a.send(ctx, m) })
}

// AddSockets makes the targeted sockets of every server join rooms.
func (a *ShardedAdapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	if err := a.mem.AddSockets(ctx, opts, rooms); err != nil || opts.Flags.Local {
		return err
	}
	o := wireOpts(opts, true)
	return a.send(ctx, &wire.Message{Type: wire.ClusterSocketsJoin, Opts: &o, Rooms: roomStrings(rooms)})
}

// DelSockets makes the targeted sockets of every server leave rooms.
func (a *ShardedAdapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	if err := a.mem.DelSockets(ctx, opts, rooms); err != nil || opts.Flags.Local {
		return err
	}
	o := wireOpts(opts, true)
	return a.send(ctx, &wire.Message{Type: wire.ClusterSocketsLeave, Opts: &o, Rooms: roomStrings(rooms)})
}

// DisconnectSockets disconnects the targeted sockets of every server.
func (a *ShardedAdapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, close bool) error {
	if err := a.mem.DisconnectSockets(ctx, opts, close); err != nil || opts.Flags.Local {
		return err
	}
	o := wireOpts(opts, true)
	return a.send(ctx, &wire.Message{Type: wire.ClusterDisconnectSockets, Opts: &o, Close: close})
}

// FetchSockets describes the targeted sockets of every server. When some
// servers do not answer in time (the operator's timeout, else the request
// timeout), it returns what it has with a *TimeoutError.
func (a *ShardedAdapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	local, err := a.mem.FetchSockets(ctx, opts)
	if err != nil || opts.Flags.Local {
		return local, err
	}
	servers, err := a.ServerCount(ctx)
	if err != nil || servers <= 1 {
		return local, err
	}
	timeout := a.timeout
	if opts.Flags.Timeout > 0 {
		timeout = opts.Flags.Timeout
	}
	o := wireOpts(opts, true)
	m := &wire.Message{Type: wire.ClusterFetchSockets, RequestID: randomHex(8), Opts: &o}
	remote := []adapter.SocketInfo{}
	err = a.ask(ctx, "fetchSockets", m.RequestID, servers-1, timeout,
		func(ctx context.Context) error { return a.send(ctx, m) },
		typed(func(r *wire.Message) {
			if socks, err := wire.DecodeSockets(r.Sockets); err == nil {
				remote = append(remote, socks...)
			}
		}))
	return append(local, remote...), err
}

// ServerSideEmit sends data (the JSON array [event, ...args]) to the
// namespace on the other servers; with wantReplies it waits for one reply
// per other server, within the request timeout and ctx.
func (a *ShardedAdapter) ServerSideEmit(ctx context.Context, data json.RawMessage, attachments [][]byte, wantReplies bool) ([]adapter.Reply, error) {
	if a.closed.Load() {
		return nil, adapter.ErrClosed
	}
	m := &wire.Message{Type: wire.ClusterServerSideEmit, Data: data, Attachments: attachments}
	if !wantReplies {
		return []adapter.Reply{}, a.send(ctx, m)
	}
	servers, err := a.ServerCount(ctx)
	if err != nil || servers <= 1 {
		return []adapter.Reply{}, err
	}
	m.RequestID = randomHex(8)
	replies := []adapter.Reply{}
	err = a.ask(ctx, "serverSideEmit", m.RequestID, servers-1, a.timeout,
		func(ctx context.Context) error { return a.send(ctx, m) },
		typed(func(r *wire.Message) { replies = append(replies, replyOf(r.Data, r.Attachments)) }))
	return replies, err
}

// Close leaves the namespace's channels and stops the adapter's
// goroutines. Requests in flight end with adapter.ErrClosed. The room
// index stays usable for the sockets still leaving.
func (a *ShardedAdapter) Close() error {
	a.subMu.Lock()
	defer a.subMu.Unlock()
	if a.shutdown() {
		a.node.detach(a)
	}
	return nil
}
