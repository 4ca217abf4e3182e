package redis

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/adapter/redis/wire"
)

// pending is a request of this adapter waiting for the other servers'
// responses.
type pending struct {
	want   int
	onResp func(*wire.Response) // called under mu, from the read loop
	done   chan struct{}        // closed when want responses arrived
	failed chan error           // Redis went away, or the adapter closed

	mu       sync.Mutex
	got      int
	finished bool
}

func (p *pending) deliver(s *wire.Response) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.onResp(s)
	p.got++
	if p.got == p.want {
		p.finished = true
		close(p.done)
	}
}

// ask publishes q, which has a RequestID, and waits for want responses,
// passing each to onResp, until the request timeout, ctx's end or a loss
// of Redis. When it returns, onResp is no longer called.
func (a *Adapter) ask(ctx context.Context, op string, q *wire.Request, want int, onResp func(*wire.Response)) error {
	payload, err := wire.AppendRequest(nil, q)
	if err != nil {
		return err
	}
	p := &pending{want: want, onResp: onResp, done: make(chan struct{}), failed: make(chan error, 1)}
	a.mu.Lock()
	a.requests[q.RequestID] = p
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.requests, q.RequestID)
		a.mu.Unlock()
	}()
	if a.closed.Load() {
		return adapter.ErrClosed
	}

	err = a.node.publish(ctx, a.ch.Request, payload)
	if err == nil {
		timer := time.NewTimer(a.opts.RequestTimeout)
		defer timer.Stop()
		select {
		case <-p.done:
		case err = <-p.failed:
		case <-ctx.Done():
			err = ctx.Err()
		case <-timer.C:
			err = &TimeoutError{Op: op, Want: want}
		}
	}
	p.mu.Lock()
	p.finished = true
	if p.got == want {
		err = nil // every response came in while the wait was ending
	}
	if te, ok := err.(*TimeoutError); ok {
		te.Got = p.got
	}
	p.mu.Unlock()
	return err
}

// failPending ends every request in flight with err.
func (a *Adapter) failPending(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.requests {
		select {
		case p.failed <- err:
		default:
		}
	}
	for _, w := range a.acks {
		w.fail(err)
	}
}

// isMine reports whether requestID is a request of this adapter in flight:
// requests come back to their sender, who must not answer itself.
func (a *Adapter) isMine(requestID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, req := a.requests[requestID]
	_, ack := a.acks[requestID]
	return req || ack
}

// onResponse handles a message of the response channels.
func (a *Adapter) onResponse(payload []byte) {
	s, err := wire.DecodeResponse(payload)
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed response", "nsp", a.name, "err", err)
		return
	}
	a.mu.Lock()
	p := a.requests[s.RequestID]
	w := a.acks[s.RequestID]
	a.mu.Unlock()
	switch {
	case w != nil && s.Type == wire.BroadcastClientCount:
		w.clientCount(s.ClientCount)
	case w != nil && s.Type == wire.BroadcastAck:
		w.reply(replyOf(s.Packet, s.Attachments))
	case p != nil:
		p.deliver(s)
	}
}

// onRequest handles a message of the request channel, which every server,
// the sender included, receives.
func (a *Adapter) onRequest(payload []byte) {
	q, err := wire.DecodeRequest(payload)
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed request", "nsp", a.name, "err", err)
		return
	}
	ctx := context.Background()
	switch q.Type {
	case wire.Sockets:
		if a.isMine(q.RequestID) {
			return
		}
		ids := a.mem.Sockets(localOpts(&wire.Opts{Rooms: q.Rooms}))
		raw, _ := json.Marshal(ids)
		a.respond(q, &wire.Response{Type: wire.NoType, RequestID: q.RequestID, Sockets: raw})
	case wire.AllRooms:
		if a.isMine(q.RequestID) {
			return
		}
		a.respond(q, &wire.Response{Type: wire.NoType, RequestID: q.RequestID, Rooms: roomStrings(a.mem.Rooms())})
	case wire.RemoteJoin, wire.RemoteLeave, wire.RemoteDisconnect:
		if q.Opts == nil {
			a.onLegacyRequest(q)
			return
		}
		if q.UID == a.uid {
			return // done locally before publishing
		}
		opts, rooms := localOpts(q.Opts), toRooms(q.Rooms)
		switch q.Type {
		case wire.RemoteJoin:
			a.mem.AddSockets(ctx, opts, rooms)
		case wire.RemoteLeave:
			a.mem.DelSockets(ctx, opts, rooms)
		default:
			a.mem.DisconnectSockets(ctx, opts, q.Close)
		}
	case wire.RemoteFetch:
		if a.isMine(q.RequestID) {
			return
		}
		infos, _ := a.mem.FetchSockets(ctx, localOpts(q.Opts))
		raw, err := wire.EncodeSockets(infos)
		if err != nil {
			return
		}
		a.respond(q, &wire.Response{Type: wire.NoType, RequestID: q.RequestID, Sockets: raw})
	case wire.ServerSideEmit:
		if q.UID == a.uid || q.Data == nil {
			return
		}
		a.onServerSideEmit(q)
	case wire.Broadcast:
		if a.isMine(q.RequestID) {
			return
		}
		a.onBroadcastWithAck(q)
	}
}

// onLegacyRequest answers the single-socket join, leave and disconnect of
// adapters before 7.x, when the socket is here.
func (a *Adapter) onLegacyRequest(q *wire.Request) {
	if a.mem.SocketRooms(q.SID) == nil {
		return
	}
	ctx := context.Background()
	opts := adapter.BroadcastOptions{Rooms: []adapter.Room{adapter.Room(q.SID)}}
	switch q.Type {
	case wire.RemoteJoin:
		a.mem.AddSockets(ctx, opts, []adapter.Room{adapter.Room(q.Room)})
	case wire.RemoteLeave:
		a.mem.DelSockets(ctx, opts, []adapter.Room{adapter.Room(q.Room)})
	default:
		a.mem.DisconnectSockets(ctx, opts, q.Close)
	}
	a.respond(q, &wire.Response{Type: wire.NoType, RequestID: q.RequestID})
}

// onServerSideEmit queues the event for the namespace's handlers; with a
// request id, the first call of its ack answers the sender.
func (a *Adapter) onServerSideEmit(q *wire.Request) {
	var ack func(adapter.Reply)
	if q.RequestID != "" {
		var once sync.Once
		ack = func(r adapter.Reply) {
			once.Do(func() {
				first, atts := firstArg(r)
				// Always the shared channel, as the Node.js adapter does here.
				a.sendResponse(a.ch.Response, &wire.Response{Type: wire.ServerSideEmit, RequestID: q.RequestID, Data: first, Attachments: atts})
			})
		}
	}
	select {
	case a.events <- func() { a.ns.OnServerSideEmit(q.Data, q.Attachments, ack) }:
	default:
		a.log.Warn("redis adapter: server-side event queue full; dropping an event", "nsp", a.name)
	}
}

// firstArg returns the first argument of a reply (nil when it has none):
// what the Node.js adapter sends back for an acknowledgement.
func firstArg(r adapter.Reply) (json.RawMessage, [][]byte) {
	var args []json.RawMessage
	if err := json.Unmarshal(r.Data, &args); err != nil || len(args) == 0 {
		return nil, nil
	}
	return args[0], r.Attachments
}

// respond publishes a response to request q, on the shared response
// channel or, with PublishOnSpecificResponseChannel, the requester's.
func (a *Adapter) respond(q *wire.Request, s *wire.Response) {
	channel := a.ch.Response
	if a.opts.PublishOnSpecificResponseChannel && q.UID != "" {
		channel = a.ch.SpecificResponse(q.UID)
	}
	a.sendResponse(channel, s)
}

func (a *Adapter) sendResponse(channel string, s *wire.Response) {
	payload, err := wire.AppendResponse(nil, s)
	if err != nil {
		a.log.Debug("redis adapter: response not encodable", "nsp", a.name, "err", err)
		return
	}
	a.node.enqueue(channel, payload)
}

func toRooms(rooms []string) []adapter.Room {
	out := make([]adapter.Room, len(rooms))
	for i, r := range rooms {
		out[i] = adapter.Room(r)
	}
	return out
}
