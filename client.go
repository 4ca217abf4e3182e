package roomcast

import (
	"slices"
	"sync"
	"time"

	"github.com/roomcast/roomcast/engineio"
	"github.com/roomcast/roomcast/parser"
)

// client is one Engine.IO connection seen from Socket.IO: it decodes packets
// and routes them to the connection's sockets, one per namespace.
type client struct {
	srv     *Server
	conn    *engineio.Session
	created time.Time
	dec     parser.Decoder // used only on the read loop

	mu sync.Mutex
	// sockets holds the pending or connected socket of each namespace the
	// client is in. A client is in one or a few namespaces: a slice searched
	// by name is smaller than a map, and as fast for so few.
	sockets      []*Socket
	connectTimer *time.Timer // until a socket is admitted; nil after
	closed       bool

	// ready lists the dispatchers that the packets of the current read have
	// made ready to run; the reader runs them once it has stopped reading
	// (Deferred). Used only by the reader.
	ready *dispatcher
}

// errInvalidNamespace is the standard refusal of an unknown namespace.
var errInvalidNamespace = &ConnectError{Message: "Invalid namespace"}

func (srv *Server) newClient(conn *engineio.Session) engineio.Receiver {
	c := &client{
		srv:     srv,
		conn:    conn,
		created: time.Now(),
	}
	c.dec.MaxAttachments = srv.opts.MaxAttachments
	// A connection that joins no namespace in time is closed.
	c.connectTimer = time.AfterFunc(srv.opts.ConnectTimeout, func() {
		c.mu.Lock()
		idle := len(c.sockets) == 0
		c.mu.Unlock()
		if idle {
			conn.Close()
		}
	})
	srv.mu.Lock()
	srv.clients[c] = struct{}{}
	srv.mu.Unlock()
	return c
}

// OnMessage implements engineio.Receiver.
func (c *client) OnMessage(data []byte, binary bool) {
	p, err := c.dec.Add(data, binary)
	if err != nil {
		c.srv.opts.Logger.Debug("roomcast: invalid packet; closing the connection",
			"sid", c.conn.ID(), "err", err)
		c.conn.Close()
		return
	}
	if p == nil {
		return // waiting for attachments
	}
	if p.Type == parser.Connect {
		c.connect(p)
		return
	}
	c.mu.Lock()
	s := c.socketLocked(p.Namespace)
	c.mu.Unlock()
	if s != nil {
		s.onPacket(p, &c.ready)
	}
}

// Deferred implements engineio.Deferrer: the reader that has delivered
// events runs the dispatchers they woke, rather than a goroutine started
// for each.
func (c *client) Deferred() func() {
	d := c.ready
	if d == nil {
		return nil
	}
	c.ready = nil
	return d.runReady
}

// OnClose implements engineio.Receiver.
func (c *client) OnClose(reason engineio.Reason, err error) {
	c.stopConnectTimer()
	c.closeSockets(Reason(reason))
	c.srv.mu.Lock()
	delete(c.srv.clients, c)
	c.srv.mu.Unlock()
}

// connect handles a CONNECT: a new socket in the namespace, admitted on its
// own dispatcher once the namespace's middlewares agree.
func (c *client) connect(p *parser.Packet) {
	ns, refused := c.srv.lookup(p.Namespace, p.Data)
	if refused != nil {
		c.write(encodeFrames(&parser.Packet{Type: parser.ConnectError, Namespace: p.Namespace, Data: refused.payload()}), false)
		return
	}
	c.mu.Lock()
	if c.closed || c.socketLocked(ns.name) != nil {
		c.mu.Unlock()
		return // a second CONNECT to a namespace the client is in
	}
	s := newSocket(ns, c, p.Data)
	c.sockets = append(c.sockets, s)
	c.mu.Unlock()
	s.tasks.push(func() { ns.admit(s) }, true, &c.ready)
}

// write queues frames on the connection.
func (c *client) write(frames []engineio.Frame, volatile bool) error {
	if volatile {
		c.conn.SendVolatile(frames...)
		return nil
	}
	return c.conn.Send(frames...)
}

// remove forgets a socket that left (or was refused by) its namespace.
func (c *client) remove(s *Socket) {
	c.mu.Lock()
	if i := slices.Index(c.sockets, s); i >= 0 {
		c.sockets = slices.Delete(c.sockets, i, i+1)
	}
	c.mu.Unlock()
}

// socketLocked returns the client's socket of the namespace, nil if none.
func (c *client) socketLocked(namespace string) *Socket {
	for _, s := range c.sockets {
		if s.ns.name == namespace {
			return s
		}
	}
	return nil
}

func (c *client) stopConnectTimer() {
	c.mu.Lock()
	t := c.connectTimer
	c.connectTimer = nil
	c.mu.Unlock()
	if t != nil {
		t.Stop()
	}
}

func (c *client) snapshot() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sockets)
}

// closeSockets closes every socket of the connection with reason.
func (c *client) closeSockets(reason Reason) {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	for _, s := range c.snapshot() {
		s.close(reason)
	}
}

// disconnectAll disconnects every socket (each told with a DISCONNECT
// packet) and closes the connection once those are written.
func (c *client) disconnectAll() {
	for _, s := range c.snapshot() {
		s.Disconnect(false)
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.conn.Close()
}
