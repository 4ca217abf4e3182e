package adapter

import "context"

// The operations on the sockets opts targets. On one server they need not
// wait, so ctx is not consulted. The targets are resolved under the read
// lock and acted on after it is released, since each action calls a Member
// or changes the index.

// FetchSockets describes the targeted sockets: their rooms as the index had
// them when they were resolved, and their handshake and data.
func (a *Memory) FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	if a.closed.Load() {
		return nil, ErrClosed
	}
	s := getScratch()
	defer s.release()
	var infos []SocketInfo
	a.mu.RLock()
	a.visit(&opts, s, func(id string, m Member) {
		mine := a.sids[id]
		infos = append(infos, SocketInfo{ID: id, Rooms: roomList(&mine), Local: m})
	})
	a.mu.RUnlock()
	for i := range infos {
		infos[i].Handshake, infos[i].Data = infos[i].Local.Describe()
	}
	if infos == nil {
		infos = []SocketInfo{}
	}
	return infos, nil
}

// AddSockets makes the targeted sockets join rooms.
func (a *Memory) AddSockets(ctx context.Context, opts BroadcastOptions, rooms []Room) error {
	return a.each(&opts, func(m Member) { a.AddAll(m, rooms...) })
}

// DelSockets makes the targeted sockets leave rooms.
func (a *Memory) DelSockets(ctx context.Context, opts BroadcastOptions, rooms []Room) error {
	return a.each(&opts, func(m Member) {
		for _, r := range rooms {
			a.Del(m.ID(), r)
		}
	})
}

// DisconnectSockets disconnects the targeted sockets (which leave their
// rooms through DelAll as they go).
func (a *Memory) DisconnectSockets(ctx context.Context, opts BroadcastOptions, close bool) error {
	return a.each(&opts, func(m Member) { m.Disconnect(close) })
}

// each resolves the targets of opts, then calls fn for each, without the lock.
func (a *Memory) each(opts *BroadcastOptions, fn func(m Member)) error {
	if a.closed.Load() {
		return ErrClosed
	}
	s := getScratch()
	defer s.release()
	a.resolve(opts, s)
	for _, m := range s.targets {
		fn(m)
	}
	return nil
}
