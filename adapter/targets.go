package adapter

import "sync"

// smallSet is how many rooms are checked one by one before a set of ids is
// built instead: looking an id up in a few room sets costs less than
// filling a map, but not in hundreds of them (a message to 500 socket ids).
const smallSet = 8

// maxPooledTargets bounds the scratch kept for reuse: a broadcast to more
// sockets than this allocates its own, so that one huge broadcast does not
// pin its memory in the pool.
const maxPooledTargets = 1 << 16

// scratch is the working memory of one target resolution, pooled so that a
// broadcast allocates nothing per target once the pool is warm.
type scratch struct {
	targets []Member
	// except holds the member sets of the Except rooms, looked up once.
	except []smallMap[string, Member]
	// rooms holds the member sets of the Rooms, when they are few.
	rooms []smallMap[string, Member]
	// skip, used with many rooms, holds the ids not to visit: those of the
	// Except rooms and those already visited.
	skip map[string]struct{}
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

// release clears s (so that it pins no Member) and returns it to the pool.
func (s *scratch) release() {
	if cap(s.targets) > maxPooledTargets || len(s.skip) > maxPooledTargets {
		return
	}
	clear(s.targets)
	s.targets = s.targets[:0]
	clear(s.except)
	s.except = s.except[:0]
	clear(s.rooms)
	s.rooms = s.rooms[:0]
	clear(s.skip)
	scratchPool.Put(s)
}

// resolve appends the targets of opts to s.targets.
func (a *Memory) resolve(opts *BroadcastOptions, s *scratch) {
	a.mu.RLock()
	a.visit(opts, s, func(_ string, m Member) { s.targets = append(s.targets, m) })
	a.mu.RUnlock()
}

// visit calls fn once for every socket opts targets: with Rooms, each socket
// in at least one of them; without, every socket; in both cases minus the
// sockets in any Except room. a.mu must be held; fn must not call out.
func (a *Memory) visit(opts *BroadcastOptions, s *scratch, fn func(id string, m Member)) {
	if len(opts.Rooms) > smallSet || len(opts.Except) > smallSet {
		a.visitWithSet(opts, s, fn)
		return
	}
	for _, r := range opts.Except {
		if set := a.rooms[r]; set.len() > 0 {
			s.except = append(s.except, set)
		}
	}
	if len(opts.Rooms) == 0 {
		for id, m := range a.members {
			if !inAny(s.except, id) {
				fn(id, m)
			}
		}
		return
	}
	for _, r := range opts.Rooms {
		s.rooms = append(s.rooms, a.rooms[r])
	}
	for i := range s.rooms {
		for id, m := range s.rooms[i].all() {
			// An id in an earlier room of the list was visited there.
			if !inAny(s.except, id) && !inAny(s.rooms[:i], id) {
				fn(id, m)
			}
		}
	}
}

// visitWithSet is visit for many rooms: the ids to leave out are gathered
// in s.skip, then each id visited is added to it.
func (a *Memory) visitWithSet(opts *BroadcastOptions, s *scratch, fn func(id string, m Member)) {
	if s.skip == nil {
		s.skip = make(map[string]struct{})
	}
	for _, r := range opts.Except {
		set := a.rooms[r]
		for id := range set.all() {
			s.skip[id] = struct{}{}
		}
	}
	if len(opts.Rooms) == 0 {
		for id, m := range a.members {
			if _, ok := s.skip[id]; !ok {
				fn(id, m)
			}
		}
		return
	}
	for _, r := range opts.Rooms {
		set := a.rooms[r]
		for id, m := range set.all() {
			if _, ok := s.skip[id]; !ok {
				s.skip[id] = struct{}{}
				fn(id, m)
			}
		}
	}
}

func inAny(sets []smallMap[string, Member], id string) bool {
	for i := range sets {
		if sets[i].has(id) {
			return true
		}
	}
	return false
}
