package roomcast

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/parser"
)

// BroadcastOperator selects sockets of a namespace and acts on them. It is a
// value: every modifier returns a modified copy and leaves the receiver
// unchanged, so operators can be kept, shared and reused freely.
type BroadcastOperator struct {
	ns     *Namespace
	rooms  []Room
	except []Room
	flags  adapter.Flags
}

func newOperator(ns *Namespace) BroadcastOperator { return BroadcastOperator{ns: ns} }

// To adds rooms to target: a socket in at least one of them is targeted, once.
func (o BroadcastOperator) To(rooms ...Room) BroadcastOperator {
	o.rooms = appendUnique(slices.Clip(o.rooms), rooms)
	return o
}

// In is the same as To.
func (o BroadcastOperator) In(rooms ...Room) BroadcastOperator { return o.To(rooms...) }

// Except removes the sockets in rooms from the targets.
func (o BroadcastOperator) Except(rooms ...Room) BroadcastOperator {
	o.except = appendUnique(slices.Clip(o.except), rooms)
	return o
}

// Volatile drops the event for sockets that cannot take it now.
func (o BroadcastOperator) Volatile() BroadcastOperator {
	o.flags.Volatile = true
	return o
}

// Local restricts the operation to this server.
func (o BroadcastOperator) Local() BroadcastOperator {
	o.flags.Local = true
	return o
}

// Compress sets the compression flag.
func (o BroadcastOperator) Compress(c bool) BroadcastOperator {
	o.flags.Compress = c
	return o
}

// Timeout bounds how long EmitWithAck waits.
func (o BroadcastOperator) Timeout(d time.Duration) BroadcastOperator {
	o.flags.Timeout = d
	return o
}

func (o BroadcastOperator) options() adapter.BroadcastOptions {
	return adapter.BroadcastOptions{Rooms: o.rooms, Except: o.except, Flags: o.flags}
}

// Emit sends an event to every targeted socket. The packet is encoded once
// and the same bytes go to every socket.
func (o BroadcastOperator) Emit(event string, args ...any) error {
	p, err := eventPacket(o.ns.name, event, args)
	if err != nil {
		return err
	}
	return o.ns.adapter.Broadcast(context.Background(), p, o.options())
}

// EmitWithAck sends an event to every targeted socket and waits for each
// one's acknowledgement, until ctx ends or the Timeout set on the operator
// passes. When time runs out it returns the replies that did arrive, with
// ErrTimeout (or ctx's error).
func (o BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]Reply, error) {
	p, err := eventPacket(o.ns.name, event, args)
	if err != nil {
		return nil, err
	}
	p.ID, p.HasID = o.ns.nextAckID(), true
	ctx, cancel := withTimeout(ctx, o.flags.Timeout)
	defer cancel()
	raw, err := o.ns.adapter.BroadcastWithAck(ctx, p, o.options())
	replies := make([]Reply, 0, len(raw))
	for _, r := range raw {
		if rep, perr := replyOf(r); perr == nil {
			replies = append(replies, rep)
		}
	}
	return replies, timeoutError(err)
}

// FetchSockets returns handles on the targeted sockets.
func (o BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	infos, err := o.ns.adapter.FetchSockets(ctx, o.options())
	out := make([]*RemoteSocket, 0, len(infos))
	for _, info := range infos {
		out = append(out, &RemoteSocket{ns: o.ns, info: info})
	}
	return out, err
}

// SocketsJoin makes the targeted sockets join rooms.
func (o BroadcastOperator) SocketsJoin(ctx context.Context, rooms ...Room) error {
	return o.ns.adapter.AddSockets(ctx, o.options(), rooms)
}

// SocketsLeave makes the targeted sockets leave rooms.
func (o BroadcastOperator) SocketsLeave(ctx context.Context, rooms ...Room) error {
	return o.ns.adapter.DelSockets(ctx, o.options(), rooms)
}

// DisconnectSockets disconnects the targeted sockets; with close, their
// whole connections.
func (o BroadcastOperator) DisconnectSockets(ctx context.Context, close bool) error {
	return o.ns.adapter.DisconnectSockets(ctx, o.options(), close)
}

// SocketIDs returns the ids of the targeted sockets on this server.
func (o BroadcastOperator) SocketIDs() []string { return o.ns.adapter.Sockets(o.options()) }

// SocketEmitter sends to one socket with flags. Like BroadcastOperator it is
// a value: modifiers return copies, nothing is stored on the socket.
type SocketEmitter struct {
	s        *Socket
	volatile bool
	compress bool
	timeout  time.Duration
}

// Volatile drops the event if the client cannot take it now.
func (e SocketEmitter) Volatile() SocketEmitter { e.volatile = true; return e }

// Compress sets the compression flag.
func (e SocketEmitter) Compress(c bool) SocketEmitter { e.compress = c; return e }

// Timeout bounds how long EmitWithAck waits.
func (e SocketEmitter) Timeout(d time.Duration) SocketEmitter { e.timeout = d; return e }

// Emit sends an event to the socket's client.
func (e SocketEmitter) Emit(event string, args ...any) error {
	p, err := eventPacket(e.s.ns.name, event, args)
	if err != nil {
		return err
	}
	return e.s.writePacket(p, e.volatile)
}

// EmitWithAck sends an event and waits for the client's acknowledgement.
func (e SocketEmitter) EmitWithAck(ctx context.Context, event string, args ...any) (Reply, error) {
	p, err := eventPacket(e.s.ns.name, event, args)
	if err != nil {
		return Reply{}, err
	}
	p.ID, p.HasID = e.s.ns.nextAckID(), true
	got := make(chan adapter.Reply, 1)
	e.s.registerAck(p.ID, func(r adapter.Reply) { got <- r })
	if err := e.s.writePacket(p, e.volatile); err != nil {
		e.s.ForgetAck(p.ID)
		return Reply{}, err
	}
	ctx, cancel := withTimeout(ctx, e.timeout)
	defer cancel()
	select {
	case r := <-got:
		return replyOf(r)
	case <-ctx.Done():
		e.s.ForgetAck(p.ID)
		return Reply{}, timeoutError(ctx.Err())
	case <-e.s.Context().Done():
		return Reply{}, ErrDisconnected
	}
}

func eventPacket(nsp, event string, args []any) (*parser.Packet, error) {
	if parser.IsReservedEvent(event) {
		return nil, ErrReservedEvent
	}
	data, atts, err := encodeArgs(event, args)
	if err != nil {
		return nil, err
	}
	return &parser.Packet{Type: parser.Event, Namespace: nsp, Data: data, Attachments: atts}, nil
}

func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

// timeoutError maps a deadline to ErrTimeout, the error Socket.IO users expect.
func timeoutError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrTimeout
	}
	return err
}

func appendUnique(dst, rooms []Room) []Room {
	for _, r := range rooms {
		if !slices.Contains(dst, r) {
			dst = append(dst, r)
		}
	}
	return dst
}
