package redis

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/adapter/redis/wire"
	"github.com/roomcast/roomcast/engineio"
	"github.com/roomcast/roomcast/parser"
)

// member is a namespace adapter as its node sees it.
type member interface {
	adapter.Adapter
	// nsp returns the namespace's name.
	nsp() string
	// subscriptions returns the patterns and channels it listens to now.
	subscriptions() (patterns, channels []string)
	// receive handles a message of one of them, on the node's read loop.
	receive(m *goredis.Message)
	// failPending ends the requests in flight with err.
	failPending(err error)
}

// core is what the classic and the sharded adapters share: the local room
// index, the requests and broadcasts with acks in flight, and the
// goroutine that runs server-side events.
type core struct {
	node    *node
	ns      adapter.Namespace
	name    string
	uid     string // this adapter's id in the cluster
	log     *slog.Logger
	timeout time.Duration   // the request timeout
	count   string          // the channel whose subscribers are the servers
	mem     *adapter.Memory // local room index and local delivery
	closed  atomic.Bool

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

// eventQueue bounds the server-side events waiting for their handlers.
const eventQueue = 1024

const firstRemoteAckID = 1 << 52

// init sets c up; onRoom, if not nil, learns of each room created
// (true) or deleted (false) after the index changed.
func (c *core) init(n *node, ns adapter.Namespace, uid, count string, onRoom func(r adapter.Room, created bool)) {
	c.node, c.ns, c.name, c.uid, c.count = n, ns, ns.Name(), uid, count
	c.log, c.timeout = n.f.logger, n.f.timeout
	c.rooms = make(map[adapter.Room]struct{})
	c.requests = make(map[string]*pending)
	c.acks = make(map[string]*ackWait)
	c.timers = make(map[*time.Timer]struct{})
	c.events = make(chan func(), eventQueue)
	c.quit = make(chan struct{})
	c.ackIDs.Store(firstRemoteAckID)
	c.mem = adapter.NewMemory(ns, adapter.Hooks{
		OnCreateRoom: func(r adapter.Room) {
			c.mu.Lock()
			c.rooms[r] = struct{}{}
			c.mu.Unlock()
			if onRoom != nil {
				onRoom(r, true)
			}
		},
		OnDeleteRoom: func(r adapter.Room) {
			c.mu.Lock()
			delete(c.rooms, r)
			c.mu.Unlock()
			if onRoom != nil {
				onRoom(r, false)
			}
		},
	})
	go c.runEvents()
}

func (c *core) nsp() string { return c.name }

// UID returns the id this adapter has in the cluster.
func (c *core) UID() string { return c.uid }

// The local room index: the in-memory adapter's.

// AddAll puts a local socket in rooms.
func (c *core) AddAll(m adapter.Member, rooms ...adapter.Room) { c.mem.AddAll(m, rooms...) }

// Del removes a local socket from a room.
func (c *core) Del(id string, room adapter.Room) { c.mem.Del(id, room) }

// DelAll removes a local socket from all its rooms.
func (c *core) DelAll(id string) { c.mem.DelAll(id) }

// SocketRooms returns the rooms of a local socket.
func (c *core) SocketRooms(id string) []adapter.Room { return c.mem.SocketRooms(id) }

// Sockets returns the ids of the local sockets opts targets (the Node.js
// adapters' sockets() is local too).
func (c *core) Sockets(opts adapter.BroadcastOptions) []string { return c.mem.Sockets(opts) }

// Rooms returns the rooms with local members.
func (c *core) Rooms() []adapter.Room { return c.mem.Rooms() }

func (c *core) hasRoom(r adapter.Room) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.rooms[r]
	return ok
}

// ServerCount returns the number of servers serving this namespace, this
// one included: the subscribers of its counting channel.
func (c *core) ServerCount(ctx context.Context) (int, error) {
	if c.closed.Load() {
		return 0, adapter.ErrClosed
	}
	return c.node.numSub(ctx, c.count)
}

// shutdown ends what c runs; false if it was already closed. The room
// index stays usable for the sockets still leaving.
func (c *core) shutdown() bool {
	if c.closed.Swap(true) {
		return false
	}
	c.mem.Close()
	c.failPending(adapter.ErrClosed)
	close(c.quit) // not waited for: Close may be called from an event handler
	c.mu.Lock()
	for t := range c.timers {
		t.Stop()
	}
	clear(c.timers)
	c.mu.Unlock()
	return true
}

// runEvents runs the server-side event handlers, in order.
func (c *core) runEvents() {
	for {
		select {
		case <-c.quit:
			return
		case fn := <-c.events:
			fn()
		}
	}
}

// serverSideEmit queues an event of another server for the namespace's
// handlers; ack, if not nil, answers the sender.
func (c *core) serverSideEmit(data json.RawMessage, atts [][]byte, ack func(adapter.Reply)) {
	select {
	case c.events <- func() { c.ns.OnServerSideEmit(data, atts, ack) }:
	default:
		c.log.Warn("redis adapter: server-side event queue full; dropping an event", "nsp", c.name)
	}
}

// failPending ends every request in flight with err.
func (c *core) failPending(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.requests {
		select {
		case p.failed <- err:
		default:
		}
	}
	for _, w := range c.acks {
		w.fail(err)
	}
}

// isMine reports whether requestID is a request of this adapter in flight:
// in the classic protocol requests come back to their sender, who must not
// answer itself.
func (c *core) isMine(requestID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, req := c.requests[requestID]
	_, ack := c.acks[requestID]
	return req || ack
}

// lookup returns what waits for the responses to requestID, if anything.
func (c *core) lookup(requestID string) (*pending, *ackWait) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests[requestID], c.acks[requestID]
}

// deliverWithAck delivers another server's broadcast with acks to the
// local sockets opts targets, with an ack id of this server: it reports
// how many they are (even none) to count, then each reply to ack. The
// replies still awaited after timeout are forgotten.
func (c *core) deliverWithAck(data json.RawMessage, atts [][]byte, opts adapter.BroadcastOptions, timeout time.Duration,
	count func(n int), ack func(adapter.Reply)) {
	if len(data) == 0 || data[0] != '[' {
		return
	}
	if timeout <= 0 {
		timeout = c.timeout
	}
	opts.Flags = adapter.Flags{} // as in Node.js: neither volatile nor compressed
	infos, err := c.mem.FetchSockets(context.Background(), opts)
	if err != nil {
		return
	}
	id := c.ackIDs.Add(1)
	p := &parser.Packet{Type: parser.Event, Namespace: c.name, ID: id, HasID: true, Data: data, Attachments: atts}
	frames := encodeFrames(p)
	count(len(infos))
	if len(infos) == 0 {
		return
	}
	for _, info := range infos {
		info.Local.Deliver(p, frames, adapter.Flags{Queued: true}, ack)
	}
	// Forget the acks still awaited once the sender has stopped waiting.
	// The timer is registered under the lock its callback takes first.
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(timeout, func() {
		c.mu.Lock()
		_, live := c.timers[t]
		delete(c.timers, t)
		c.mu.Unlock()
		if live {
			for _, info := range infos {
				info.Local.ForgetAck(id)
			}
		}
	})
	c.timers[t] = struct{}{}
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
		Queued:  true, // another server's: the receiver has more coming
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

func toRooms(rooms []string) []adapter.Room {
	out := make([]adapter.Room, len(rooms))
	for i, r := range rooms {
		out[i] = adapter.Room(r)
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

// replyOf makes the reply of a response's single value (nil: no argument).
func replyOf(value json.RawMessage, atts [][]byte) adapter.Reply {
	if value == nil {
		return adapter.Reply{Data: json.RawMessage("[]")}
	}
	data := make([]byte, 0, len(value)+2)
	data = append(append(append(data, '['), value...), ']')
	return adapter.Reply{Data: data, Attachments: atts}
}

// firstArg returns the first argument of a reply (nil when it has none):
// what the Node.js adapters send back for an acknowledgement.
func firstArg(r adapter.Reply) (json.RawMessage, [][]byte) {
	var args []json.RawMessage
	if err := json.Unmarshal(r.Data, &args); err != nil || len(args) == 0 {
		return nil, nil
	}
	return args[0], r.Attachments
}
