package redis

import (
	"context"
	"encoding/json"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/adapter/redis/wire"
	"github.com/roomcast/roomcast/parser"
)

// Adapter is the classic Redis adapter of one namespace. All methods are
// safe for concurrent use. Besides adapter.Adapter it offers AllRooms.
type Adapter struct {
	core
	ch       wire.Channels
	pattern  string
	specific string // this adapter's own response channel
	opts     *Options
}

var _ adapter.Adapter = (*Adapter)(nil)

func newAdapter(n *node, ns adapter.Namespace, opts *Options) *Adapter {
	a := &Adapter{ch: wire.NewChannels(opts.Key, ns.Name()), opts: opts}
	a.init(n, ns, newID(6), a.ch.Request, nil) // uid as the Node.js adapter's uid2(6)
	a.pattern = a.ch.Pattern()
	a.specific = a.ch.SpecificResponse(a.uid)
	return a
}

// subscriptions returns the pattern and channels this adapter listens to.
func (a *Adapter) subscriptions() (patterns, channels []string) {
	return []string{a.pattern}, []string{a.ch.Request, a.ch.Response, a.specific}
}

// receive routes a message of its subscriptions.
func (a *Adapter) receive(m *goredis.Message) {
	payload := []byte(m.Payload) // attachments point into it: one copy, shared read-only
	switch {
	case m.Pattern != "":
		a.onBroadcast(m.Channel, payload)
	case m.Channel == a.ch.Request:
		a.onRequest(payload)
	default:
		a.onResponse(payload)
	}
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

// ask publishes q, which has a RequestID, to the request channel and waits
// for want responses (see core.ask).
func (a *Adapter) ask(ctx context.Context, op string, q *wire.Request, want int, onResp func(*wire.Response)) error {
	payload, err := wire.AppendRequest(nil, q)
	if err != nil {
		return err
	}
	publish := func(ctx context.Context) error { return a.node.publish(ctx, a.ch.Request, payload) }
	return a.core.ask(ctx, op, q.RequestID, want, a.timeout, publish, typed(onResp))
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

// Close unsubscribes the namespace and stops the adapter's goroutines.
// Requests in flight end with adapter.ErrClosed. The room index stays
// usable for the sockets still leaving.
func (a *Adapter) Close() error {
	if a.shutdown() {
		a.node.detach(a)
	}
	return nil
}
