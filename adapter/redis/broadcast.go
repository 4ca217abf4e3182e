package redis

import (
	"context"

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
	o := wireOpts(opts, true)
	o.Flags.Timeout = a.ackTimeout(ctx, opts.Flags.Timeout).Milliseconds()
	payload, err := wire.AppendRequest(nil, &wire.Request{UID: a.uid, RequestID: requestID, Type: wire.Broadcast,
		Packet: &wire.Packet{Data: p.Data, Attachments: p.Attachments, Nsp: a.name}, Opts: &o})
	if err != nil {
		return nil, err
	}
	return a.broadcastWithAck(ctx, p, opts, requestID, func(ctx context.Context) error {
		return a.node.publish(ctx, a.ch.Request, payload)
	})
}

// onBroadcastWithAck handles another server's broadcast with acks: it
// delivers the packet to the local targets with an ack id of this server,
// tells the sender how many they are (even none), then sends each reply.
func (a *Adapter) onBroadcastWithAck(q *wire.Request) {
	if q.Packet == nil {
		return
	}
	opts := localOpts(q.Opts)
	a.deliverWithAck(q.Packet.Data, q.Packet.Attachments, opts, opts.Flags.Timeout,
		func(n int) {
			a.respond(q, &wire.Response{Type: wire.BroadcastClientCount, RequestID: q.RequestID, ClientCount: n})
		},
		func(r adapter.Reply) {
			first, atts := firstArg(r)
			a.respond(q, &wire.Response{Type: wire.BroadcastAck, RequestID: q.RequestID, Packet: first, Attachments: atts})
		})
}
