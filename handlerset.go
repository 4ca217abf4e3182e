package roomcast

import (
	"maps"
	"slices"
)

// HandlerSet is a list of event handlers made once and given to many
// sockets with Socket.OnSet. A socket given a set shares its list, where
// each handler added with On costs a slice entry on every socket, and a
// closure too when it captures the socket: with many connections that is a
// good part of an idle socket's memory. Handlers of a set find their socket
// with Event.Socket.
type HandlerSet struct {
	list []namedHandler // never modified: len == cap, so appending copies
}

// NewHandlerSet returns the set of handlers, one for each event name.
func NewHandlerSet(handlers map[string]EventHandler) *HandlerSet {
	list := make([]namedHandler, 0, len(handlers))
	for _, name := range slices.Sorted(maps.Keys(handlers)) {
		list = append(list, namedHandler{name, handlers[name]})
	}
	return &HandlerSet{list: slices.Clip(list)}
}

// OnSet adds the handlers of set to the socket, as many calls of On would,
// without copying them when the socket has no handlers yet.
func (s *Socket) OnSet(set *HandlerSet) {
	s.mu.Lock()
	if len(s.handlers) == 0 {
		s.handlers = set.list // shared: On and Off never write to it in place
	} else {
		s.handlers = append(s.handlers, set.list...)
	}
	s.mu.Unlock()
}
