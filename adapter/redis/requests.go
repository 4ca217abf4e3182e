package redis

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/adapter/redis/wire"
)

// onResponse handles a message of the response channels.
func (a *Adapter) onResponse(payload []byte) {
	s, err := wire.DecodeResponse(payload)
	if err != nil {
		a.log.Debug("redis adapter: ignoring a malformed response", "nsp", a.name, "err", err)
		return
	}
	p, w := a.lookup(s.RequestID)
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
	a.serverSideEmit(q.Data, q.Attachments, ack)
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
