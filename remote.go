package roomcast

import (
	"context"

	"github.com/roomcast/roomcast/adapter"
)

// RemoteSocket is a handle on a socket found by FetchSockets, on this server
// or another one of the cluster: a snapshot of its description, and actions
// that go through the adapter so that they reach it wherever it is.
type RemoteSocket struct {
	ns   *Namespace
	info adapter.SocketInfo
}

// ID returns the socket's id.
func (r *RemoteSocket) ID() string { return r.info.ID }

// Handshake returns how the socket connected.
func (r *RemoteSocket) Handshake() *Handshake { return r.info.Handshake }

// Rooms returns the socket's rooms when it was fetched.
func (r *RemoteSocket) Rooms() []Room { return r.info.Rooms }

// Data returns a copy of the socket's data when it was fetched.
func (r *RemoteSocket) Data() map[string]any { return r.info.Data }

// Local returns the socket itself when it is on this server, or nil.
func (r *RemoteSocket) Local() *Socket {
	s, _ := r.info.Local.(*Socket)
	return s
}

func (r *RemoteSocket) self() BroadcastOperator { return newOperator(r.ns).To(Room(r.info.ID)) }

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error { return r.self().Emit(event, args...) }

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(ctx context.Context, rooms ...Room) error {
	return r.self().SocketsJoin(ctx, rooms...)
}

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(ctx context.Context, rooms ...Room) error {
	return r.self().SocketsLeave(ctx, rooms...)
}

// Disconnect disconnects the socket; with close, its whole connection.
func (r *RemoteSocket) Disconnect(ctx context.Context, close bool) error {
	return r.self().DisconnectSockets(ctx, close)
}
