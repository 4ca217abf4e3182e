package roomcast

import "sync"

// Store is a socket's data: values the application attaches to it (a user
// id, a name), safe for concurrent use. FetchSockets returns a copy of it, and
// a cluster adapter sends it to other servers as JSON, so keep values plain.
type Store struct {
	mu   sync.RWMutex
	data map[string]any
}

// Get returns the value stored under key.
func (s *Store) Get(key string) (any, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.data[key]
	return v, ok
}

// Set stores value under key.
func (s *Store) Set(key string, value any) {
	s.mu.Lock()
	if s.data == nil {
		s.data = make(map[string]any)
	}
	s.data[key] = value
	s.mu.Unlock()
}

// Delete removes key.
func (s *Store) Delete(key string) {
	s.mu.Lock()
	delete(s.data, key)
	s.mu.Unlock()
}

// Snapshot returns a copy of every key and value.
func (s *Store) Snapshot() map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]any, len(s.data))
	for k, v := range s.data {
		out[k] = v
	}
	return out
}
