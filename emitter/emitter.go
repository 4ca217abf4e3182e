// Package emitter sends events to the sockets of a Socket.IO cluster through
// Redis, from a process that is not a Socket.IO server: what
// @socket.io/redis-emitter 5.x does, byte for byte. Roomcast servers with
// adapter/redis and Node.js servers with @socket.io/redis-adapter both
// receive it.
//
//	e := emitter.New(rdb, nil)
//	err := e.To("room1").Emit(ctx, "news", "hello", []byte{1, 2})
//	err = e.Of("/admin").DisconnectSockets(ctx, true)
//
// An emitter only publishes: there is no acknowledgement, no fetchSockets,
// and nothing tells whether any server received a message.
package emitter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast/adapter/redis/wire"
	"github.com/roomcast/roomcast/parser"
)

// ErrReservedEvent is returned for the event names that Socket.IO reserves
// (connect, connect_error, disconnect, disconnecting, newListener,
// removeListener).
var ErrReservedEvent = errors.New("emitter: reserved event name")

// Options configure an Emitter. The zero value (or nil) gives the Node.js
// emitter's defaults.
type Options struct {
	// Key prefixes every channel. Default "socket.io"; it must be the key of
	// the servers' adapters.
	Key string
}

// Emitter publishes to one namespace of the cluster. It is immutable and
// safe for concurrent use; Of and the operator methods return new values.
type Emitter struct {
	client goredis.UniversalClient
	key    string
	nsp    string
}

// New returns an emitter for the main namespace "/" that publishes with
// client, which stays the caller's to close.
func New(client goredis.UniversalClient, opts *Options) *Emitter {
	key := wire.DefaultKey
	if opts != nil && opts.Key != "" {
		key = opts.Key
	}
	return &Emitter{client: client, key: key, nsp: "/"}
}

// Of returns an emitter for namespace nsp ("/" is prepended if missing).
func (e *Emitter) Of(nsp string) *Emitter {
	if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	return &Emitter{client: e.client, key: e.key, nsp: nsp}
}

func (e *Emitter) op() Operator { return Operator{e: e} }

// To returns an operator targeting the sockets in rooms.
func (e *Emitter) To(rooms ...string) Operator { return e.op().To(rooms...) }

// In is the same as To.
func (e *Emitter) In(rooms ...string) Operator { return e.op().To(rooms...) }

// Except returns an operator targeting every socket not in rooms.
func (e *Emitter) Except(rooms ...string) Operator { return e.op().Except(rooms...) }

// Volatile returns an operator whose events servers may drop for busy clients.
func (e *Emitter) Volatile() Operator { return e.op().Volatile() }

// Compress returns an operator with the compression flag set.
func (e *Emitter) Compress(c bool) Operator { return e.op().Compress(c) }

// Emit sends an event to every socket of the namespace.
func (e *Emitter) Emit(ctx context.Context, event string, args ...any) error {
	return e.op().Emit(ctx, event, args...)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (e *Emitter) SocketsJoin(ctx context.Context, rooms ...string) error {
	return e.op().SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the namespace leave rooms.
func (e *Emitter) SocketsLeave(ctx context.Context, rooms ...string) error {
	return e.op().SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket of the namespace; with close,
// their whole connections.
func (e *Emitter) DisconnectSockets(ctx context.Context, close bool) error {
	return e.op().DisconnectSockets(ctx, close)
}

// ServerSideEmit sends an event to the namespace's server-side handlers on
// every server. Binary arguments arrive as {"type":"Buffer","data":[...]},
// as from the Node.js emitter.
func (e *Emitter) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if parser.IsReservedEvent(event) {
		return ErrReservedEvent
	}
	data, atts, err := parser.EncodeArgs(event, args)
	if err != nil {
		return err
	}
	return e.publishRequest(ctx, &wire.Request{UID: wire.EmitterUID, Type: wire.ServerSideEmit, Data: data, Attachments: atts})
}

func (e *Emitter) channels() wire.Channels { return wire.NewChannels(e.key, e.nsp) }

func (e *Emitter) publishRequest(ctx context.Context, q *wire.Request) error {
	payload, err := wire.AppendRequest(nil, q)
	if err != nil {
		return err
	}
	return e.publish(ctx, e.channels().Request, payload)
}

func (e *Emitter) publish(ctx context.Context, channel string, payload []byte) error {
	if err := e.client.Publish(ctx, channel, payload).Err(); err != nil {
		return fmt.Errorf("emitter: publish: %w", err)
	}
	return nil
}

// Operator selects sockets of the emitter's namespace. It is a value: every
// modifier returns a modified copy.
type Operator struct {
	e      *Emitter
	rooms  []string
	except []string
	flags  wire.Flags
}

// To adds rooms to target: a socket in at least one of them is targeted, once.
func (o Operator) To(rooms ...string) Operator {
	o.rooms = appendUnique(slices.Clip(o.rooms), rooms)
	return o
}

// In is the same as To.
func (o Operator) In(rooms ...string) Operator { return o.To(rooms...) }

// Except removes the sockets in rooms from the targets.
func (o Operator) Except(rooms ...string) Operator {
	o.except = appendUnique(slices.Clip(o.except), rooms)
	return o
}

// Volatile lets servers drop the event for clients that cannot take it now.
func (o Operator) Volatile() Operator {
	o.flags.Volatile = true
	return o
}

// Compress sets the compression flag.
func (o Operator) Compress(c bool) Operator {
	o.flags.Compress = c
	return o
}

func (o Operator) opts() *wire.Opts {
	return &wire.Opts{Rooms: nonNil(o.rooms), Except: nonNil(o.except), Flags: o.flags}
}

// Emit sends an event to the targeted sockets. []byte arguments (also
// inside []any and map[string]any) travel as binary.
func (o Operator) Emit(ctx context.Context, event string, args ...any) error {
	if parser.IsReservedEvent(event) {
		return ErrReservedEvent
	}
	data, atts, err := parser.EncodeArgs(event, args)
	if err != nil {
		return err
	}
	payload, err := wire.AppendEmitterEnvelope(nil, &wire.Envelope{
		UID:    wire.EmitterUID,
		Packet: wire.Packet{Data: data, Attachments: atts, Nsp: o.e.nsp},
		Opts:   *o.opts(),
	})
	if err != nil {
		return err
	}
	ch := o.e.channels()
	channel := ch.Broadcast
	if len(o.rooms) == 1 {
		channel = ch.Room(o.rooms[0])
	}
	return o.e.publish(ctx, channel, payload)
}

// SocketsJoin makes the targeted sockets join rooms.
func (o Operator) SocketsJoin(ctx context.Context, rooms ...string) error {
	return o.e.publishRequest(ctx, &wire.Request{Type: wire.RemoteJoin, Opts: o.opts(), Rooms: nonNil(rooms)})
}

// SocketsLeave makes the targeted sockets leave rooms.
func (o Operator) SocketsLeave(ctx context.Context, rooms ...string) error {
	return o.e.publishRequest(ctx, &wire.Request{Type: wire.RemoteLeave, Opts: o.opts(), Rooms: nonNil(rooms)})
}

// DisconnectSockets disconnects the targeted sockets; with close, their
// whole connections.
func (o Operator) DisconnectSockets(ctx context.Context, close bool) error {
	return o.e.publishRequest(ctx, &wire.Request{Type: wire.RemoteDisconnect, Opts: o.opts(), Close: close})
}

func appendUnique(dst, rooms []string) []string {
	for _, r := range rooms {
		if !slices.Contains(dst, r) {
			dst = append(dst, r)
		}
	}
	return dst
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
