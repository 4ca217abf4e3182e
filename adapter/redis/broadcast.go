package redis

import (
	"context"
	"sync"
	"time"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/adapter/redis/wire"
	"github.com/roomcast/roomcast/parser"
)

// onBroadcast handles a message of the broadcast channels: a broadcast of
// another server (or an emitter) delivered to the local sockets it targets.
func (a *Adapter) onBroadcast(channel string, payload []byte) {
	room, ok := a.ch.RoomOf(channel)
	if !ok {
		return
	}
	// A one-room broadcast is not even decoded where the room has no member.
	if room != "" && !a.hasRoom(adapter.Room(room)) {
		return
	}
	e, err := wire.DecodeEnvelope(payload)
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed broadcast", "nsp", a.name, "err", err)
		return
	}
	if e.UID == a.uid || e.Packet.Nsp != a.name || len(e.Packet.Data) == 0 || e.Packet.Data[0] != '[' {
		return
	}
	p := &parser.Packet{Type: parser.Event, Namespace: a.name, Data: e.Packet.Data,
		Attachments: e.Packet.Attachments, ID: e.Packet.ID, HasID: e.Packet.HasID}
	a.mem.Broadcast(context.Background(), p, localOpts(&e.Opts))
}

// ackWait collects what the other servers report for one BroadcastWithAck
// of this adapter: how many clients each reached, and their replies.
type ackWait struct {
	changed chan struct{} // a value arrived (capacity 1: a wake-up, not a count)

	mu       sync.Mutex
	servers  int // client counts received, one per server
	expected int // their sum
	replies  []adapter.Reply
	err      error // Redis went away or the adapter closed
}

func newAckWait() *ackWait { return &ackWait{changed: make(chan struct{}, 1)} }

func (w *ackWait) update(fn func()) {
	w.mu.Lock()
	fn()
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func (w *ackWait) clientCount(n int) { w.update(func() { w.servers++; w.expected += n }) }
func (w *ackWait) reply(r adapter.Reply) {
	w.update(func() { w.replies = append(w.replies, r) })
}
func (w *ackWait) fail(err error) { w.update(func() { w.err = err }) }

// state returns whether servers reported and all their clients replied,
// with the replies so far and the failure, if any.
func (w *ackWait) state(servers int) (bool, []adapter.Reply, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	complete := w.servers >= servers && len(w.replies) >= w.expected
	return complete, append([]adapter.Reply(nil), w.replies...), w.err
}

// BroadcastWithAck delivers p to the targeted sockets of every server and
// waits for each one's acknowledgement: it completes once every other
// server has said how many clients it reached and that many replies came
// in, and the local ones too. When ctx ends first, it returns the replies
// so far with ctx's error.
func (a *Adapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions) ([]adapter.Reply, error) {
	if opts.Flags.Local || a.closed.Load() {
		return a.mem.BroadcastWithAck(ctx, p, opts)
	}
	requestID := newID(6)
	w := newAckWait()
	a.mu.Lock()
	a.acks[requestID] = w
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.acks, requestID)
		a.mu.Unlock()
	}()

	o := wireOpts(opts, true)
	o.Flags.Timeout = a.ackTimeout(ctx, opts.Flags.Timeout).Milliseconds()
	payload, err := wire.AppendRequest(nil, &wire.Request{UID: a.uid, RequestID: requestID, Type: wire.Broadcast,
		Packet: &wire.Packet{Data: p.Data, Attachments: p.Attachments, Nsp: a.name}, Opts: &o})
	if err != nil {
		return nil, err
	}
	type result struct {
		replies []adapter.Reply
		err     error
	}
	localDone := make(chan result, 1)
	go func() {
		r, err := a.mem.BroadcastWithAck(ctx, p, opts)
		localDone <- result{r, err}
	}()

	// The request goes out before the count, so that no server that
	// answers is missed; a server that joins in between is simply not waited for.
	err = a.node.publish(ctx, a.ch.Request, payload)
	servers := 1
	if err == nil {
		servers, err = a.ServerCount(ctx)
	}
	if err != nil {
		local := <-localDone
		return local.replies, err
	}
	var local *result
	for {
		complete, remote, failed := w.state(servers - 1)
		if local != nil && (complete || failed != nil) {
			replies := append(local.replies, remote...)
			if failed != nil && !complete {
				return replies, failed
			}
			return replies, local.err
		}
		select {
		case r := <-localDone:
			local = &r
		case <-w.changed:
		case <-ctx.Done():
			if local == nil {
				r := <-localDone // ends with ctx
				local = &r
			}
			_, remote, _ := w.state(servers - 1)
			return append(local.replies, remote...), ctx.Err()
		}
	}
}

// ackTimeout is the timeout a broadcast's receivers are told: the
// operator's, else what remains of ctx, else the request timeout.
func (a *Adapter) ackTimeout(ctx context.Context, d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left > 0 {
			return left
		}
	}
	return a.opts.RequestTimeout
}

// onBroadcastWithAck handles another server's broadcast with acks: it
// delivers the packet to the local targets with an ack id of this server,
// tells the sender how many they are (even none), then sends each reply.
func (a *Adapter) onBroadcastWithAck(q *wire.Request) {
	if q.Packet == nil || len(q.Packet.Data) == 0 || q.Packet.Data[0] != '[' {
		return
	}
	opts := localOpts(q.Opts)
	timeout := opts.Flags.Timeout
	if timeout <= 0 {
		timeout = a.opts.RequestTimeout
	}
	opts.Flags = adapter.Flags{} // as in Node.js: neither volatile nor compressed
	infos, err := a.mem.FetchSockets(context.Background(), opts)
	if err != nil {
		return
	}
	id := a.ackIDs.Add(1)
	p := &parser.Packet{Type: parser.Event, Namespace: a.name, ID: id, HasID: true,
		Data: q.Packet.Data, Attachments: q.Packet.Attachments}
	frames := encodeFrames(p)
	a.respond(q, &wire.Response{Type: wire.BroadcastClientCount, RequestID: q.RequestID, ClientCount: len(infos)})
	if len(infos) == 0 {
		return
	}
	onAck := func(r adapter.Reply) {
		first, atts := firstArg(r)
		a.respond(q, &wire.Response{Type: wire.BroadcastAck, RequestID: q.RequestID, Packet: first, Attachments: atts})
	}
	for _, info := range infos {
		info.Local.Deliver(p, frames, false, onAck)
	}
	// Forget the acks still awaited once the sender has stopped waiting.
	// The timer is registered under the lock its callback takes first.
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed.Load() {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(timeout, func() {
		a.mu.Lock()
		_, live := a.timers[t]
		delete(a.timers, t)
		a.mu.Unlock()
		if live {
			for _, info := range infos {
				info.Local.ForgetAck(id)
			}
		}
	})
	a.timers[t] = struct{}{}
}
