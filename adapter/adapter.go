// Package adapter defines how a Socket.IO namespace finds the sockets an
// operation targets: the Adapter owns the room index (room → sockets and
// socket → rooms) and carries broadcasts and server-wide operations. The
// in-memory adapter serves one process; a cluster adapter (Redis) implements
// the same interface and reaches the other servers too, without the server
// layer knowing the difference.
package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/roomcast/roomcast/engineio"
	"github.com/roomcast/roomcast/parser"
)

// Room names a group of sockets. Every socket is in the room named by its id.
type Room string

// Flags modify a broadcast.
type Flags struct {
	// Volatile packets are dropped for sockets that cannot take them now.
	Volatile bool
	// Local restricts the operation to this server.
	Local bool
	// Compress asks for compression (carried for cluster peers).
	Compress bool
	// Timeout is how long acknowledgements are awaited (carried for cluster peers).
	Timeout time.Duration
	// Queued has every socket hand the packet to its connection's writer
	// rather than write it from the caller's goroutine when the connection
	// is idle. It is for callers with more broadcasts waiting, such as the
	// receiver of a cluster's messages: their writes then overlap and pile
	// up into fewer system calls. It is never sent to other servers.
	Queued bool
}

// BroadcastOptions select the targets of an operation: the sockets in at
// least one of Rooms (all sockets of the namespace when Rooms is empty) that
// are in none of Except.
type BroadcastOptions struct {
	Rooms  []Room
	Except []Room
	Flags  Flags
}

// Reply is one answer to an acknowledged emit: the JSON array of the
// arguments the client (or server) acked with, and its binary attachments.
type Reply struct {
	Data        json.RawMessage
	Attachments [][]byte
}

// Handshake describes how a socket connected, in the shape the Node.js
// server gives it (and cluster peers exchange).
type Handshake struct {
	Headers map[string]string `json:"headers" msgpack:"headers"`
	Time    string            `json:"time" msgpack:"time"`
	Address string            `json:"address" msgpack:"address"`
	XDomain bool              `json:"xdomain" msgpack:"xdomain"`
	Secure  bool              `json:"secure" msgpack:"secure"`
	Issued  int64             `json:"issued" msgpack:"issued"` // Unix milliseconds
	URL     string            `json:"url" msgpack:"url"`
	Query   map[string]string `json:"query" msgpack:"query"`
	Auth    json.RawMessage   `json:"auth" msgpack:"-"`
}

// SocketInfo describes a socket found by FetchSockets, on this server or another.
type SocketInfo struct {
	ID        string
	Handshake *Handshake
	Rooms     []Room
	Data      map[string]any
	// Local is the socket itself when it is on this server, nil otherwise.
	Local Member
}

// Member is a socket of this server, as its adapter sees it.
type Member interface {
	// ID returns the socket id.
	ID() string
	// Deliver writes an already encoded packet of the namespace to the
	// socket: frames are shared by every target and must not be modified. p is
	// the packet they encode (read only); flags are the broadcast's (Volatile
	// and Queued matter here). When onAck is non-nil, the socket registers it
	// under p.ID to receive the client's acknowledgement.
	Deliver(p *parser.Packet, frames []engineio.Frame, flags Flags, onAck func(Reply))
	// ForgetAck drops an acknowledgement callback registered by Deliver
	// that is no longer awaited.
	ForgetAck(id uint64)
	// Describe returns the socket's handshake and data (the adapter adds the rooms).
	Describe() (*Handshake, map[string]any)
	// Disconnect disconnects the socket; close also closes its whole connection.
	Disconnect(close bool)
}

// Namespace is the namespace an adapter serves, as the adapter sees it.
type Namespace interface {
	// Name returns the namespace's name, such as "/" or "/admin".
	Name() string
	// OnServerSideEmit receives an event sent by another server with
	// ServerSideEmit. ack is nil when the sender expects no reply.
	OnServerSideEmit(data json.RawMessage, attachments [][]byte, ack func(Reply))
}

// Adapter owns a namespace's room index and carries its broadcasts. All
// methods are safe for concurrent use; none calls back into the namespace or
// a Member while holding its lock.
type Adapter interface {
	// AddAll puts a local socket in rooms (creating them as needed).
	AddAll(m Member, rooms ...Room)
	// Del removes a local socket from a room; an emptied room vanishes.
	Del(id string, room Room)
	// DelAll removes a local socket from all its rooms and forgets it.
	DelAll(id string)
	// SocketRooms returns the rooms of a local socket (nil if unknown).
	SocketRooms(id string) []Room
	// Sockets returns the ids of the local sockets the options target.
	Sockets(opts BroadcastOptions) []string
	// Rooms returns the names of the rooms that have local members.
	Rooms() []Room

	// Broadcast encodes p once and delivers it to every targeted socket.
	Broadcast(ctx context.Context, p *parser.Packet, opts BroadcastOptions) error
	// BroadcastWithAck delivers p (whose ID the caller has set) and waits for
	// one reply per targeted socket, or until ctx ends: it then returns the
	// replies that arrived and ctx's error.
	BroadcastWithAck(ctx context.Context, p *parser.Packet, opts BroadcastOptions) ([]Reply, error)

	// FetchSockets describes the targeted sockets.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error)
	// AddSockets makes the targeted sockets join rooms.
	AddSockets(ctx context.Context, opts BroadcastOptions, rooms []Room) error
	// DelSockets makes the targeted sockets leave rooms.
	DelSockets(ctx context.Context, opts BroadcastOptions, rooms []Room) error
	// DisconnectSockets disconnects the targeted sockets.
	DisconnectSockets(ctx context.Context, opts BroadcastOptions, close bool) error

	// ServerSideEmit sends an event (a JSON array: name then arguments) to
	// the namespace of the same name on every other server. With wantReplies
	// it waits for one reply per other server, or until ctx ends, and returns
	// what arrived (with ctx's error when short).
	ServerSideEmit(ctx context.Context, data json.RawMessage, attachments [][]byte, wantReplies bool) ([]Reply, error)
	// ServerCount returns the number of servers in the cluster, this one included.
	ServerCount(ctx context.Context) (int, error)

	// Close releases what the adapter holds (subscriptions, goroutines).
	Close() error
}

// ErrClosed is returned by operations on a closed adapter.
var ErrClosed = errors.New("adapter: closed")

// Factory makes the adapter of a namespace.
type Factory func(ns Namespace) Adapter
