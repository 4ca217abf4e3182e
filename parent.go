package roomcast

import (
	"context"
	"encoding/json"
	"regexp"
	"sync"
)

// ParentNamespace is a dynamic namespace: it matches namespace names (by a
// regular expression or a function) and creates a child namespace on the
// first connection to each matching name. Middlewares and connection
// handlers set on the parent apply to every child, before the child's own;
// emitting on the parent reaches the sockets of every child.
type ParentNamespace struct {
	ns    *Namespace // holds the parent's middlewares and handlers
	match func(name string, auth json.RawMessage) bool

	mu       sync.Mutex
	children map[string]*Namespace
}

// Use adds a middleware run for the sockets of every child.
func (p *ParentNamespace) Use(m Middleware) { p.ns.Use(m) }

// OnConnection adds a connection handler for every child.
func (p *ParentNamespace) OnConnection(h func(*Socket)) { p.ns.OnConnection(h) }

// Children returns the child namespaces that exist now.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, c := range p.children {
		out = append(out, c)
	}
	return out
}

// Emit sends an event to every socket of every child.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	for _, c := range p.Children() {
		if err := c.Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}

// DisconnectSockets disconnects every socket of every child.
func (p *ParentNamespace) DisconnectSockets(ctx context.Context, close bool) error {
	for _, c := range p.Children() {
		if err := c.DisconnectSockets(ctx, close); err != nil {
			return err
		}
	}
	return nil
}

// child returns the child of that name, creating it. The server's lock is
// held by the caller, so a name is created once.
func (p *ParentNamespace) child(srv *Server, name string) *Namespace {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.children[name]; c != nil {
		return c
	}
	c := newNamespace(srv, name, p)
	p.children[name] = c
	return c
}

// removeChildIfEmpty drops an empty child (Options.CleanupEmptyChildNamespaces).
func (p *ParentNamespace) removeChildIfEmpty(c *Namespace) {
	srv := c.srv
	srv.mu.Lock()
	if c.Len() > 0 || srv.nsps[c.name] != c {
		srv.mu.Unlock()
		return
	}
	delete(srv.nsps, c.name)
	srv.children--
	p.mu.Lock()
	delete(p.children, c.name)
	p.mu.Unlock()
	srv.mu.Unlock()
	c.adapter.Close()
}

func newParent(srv *Server, match func(string, json.RawMessage) bool) *ParentNamespace {
	p := &ParentNamespace{match: match, children: make(map[string]*Namespace)}
	p.ns = &Namespace{srv: srv, name: "(dynamic)", sockets: map[string]*Socket{}, serverSide: map[string][]ServerSideHandler{}}
	return p
}

func regexpMatcher(re *regexp.Regexp) func(string, json.RawMessage) bool {
	return func(name string, _ json.RawMessage) bool { return re.MatchString(name) }
}
