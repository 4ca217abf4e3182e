package adapter

import "iter"

// smallMap is a map that holds its only entry inline. In the room index,
// most sockets are in one room (their own id's) and a room per socket has
// one member (that socket): as Go maps those two were half of an idle
// socket's memory. A smallMap is kept by value in the index's maps and put
// back after a change, since a change may replace the inline entry.
type smallMap[K comparable, V any] struct {
	key  K
	val  V
	one  bool    // key and val hold the only entry; many is nil
	many map[K]V // two entries or more (once made, kept while not empty)
}

func (s *smallMap[K, V]) len() int {
	switch {
	case s.many != nil:
		return len(s.many)
	case s.one:
		return 1
	}
	return 0
}

func (s *smallMap[K, V]) get(k K) (V, bool) {
	if s.many != nil {
		v, ok := s.many[k]
		return v, ok
	}
	if s.one && s.key == k {
		return s.val, true
	}
	var zero V
	return zero, false
}

func (s *smallMap[K, V]) has(k K) bool {
	_, ok := s.get(k)
	return ok
}

func (s *smallMap[K, V]) put(k K, v V) {
	switch {
	case s.many != nil:
		s.many[k] = v
	case !s.one || s.key == k:
		s.key, s.val, s.one = k, v, true
	default:
		s.many = map[K]V{s.key: s.val, k: v}
		var zk K
		var zv V
		s.key, s.val, s.one = zk, zv, false
	}
}

// del removes k and reports whether it was there.
func (s *smallMap[K, V]) del(k K) bool {
	if s.many != nil {
		if _, ok := s.many[k]; !ok {
			return false
		}
		delete(s.many, k)
		if len(s.many) == 0 {
			s.many = nil
		}
		return true
	}
	if s.one && s.key == k {
		var zk K
		var zv V
		s.key, s.val, s.one = zk, zv, false
		return true
	}
	return false
}

// all yields every entry, in no particular order.
func (s *smallMap[K, V]) all() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		if s.many == nil {
			if s.one {
				yield(s.key, s.val)
			}
			return
		}
		for k, v := range s.many {
			if !yield(k, v) {
				return
			}
		}
	}
}
