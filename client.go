package roomcast

import (
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

	mu           sync.Mutex
	sockets      map[string]*Socket // by namespace name: pending or connected
	connected    bool               // some socket was ever admitted
	connectTimer *time.Timer
	closed       bool
}

// errInvalidNamespace is the standard refusal of an unknown namespace.
var errInvalidNamespace = &ConnectError{Message: "Invalid namespace"}

func (srv *Server) newClient(conn *engineio.Session) engineio.Receiver {
	c := &client{
		srv:     srv,
		conn:    conn,
		created: time.Now(),
		sockets: make(map[string]*Socket),
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
	s := c.sockets[p.Namespace]
	c.mu.Unlock()
	if s != nil {
		s.onPacket(p)
	}
}

// OnClose implements engineio.Receiver.
func (c *client) OnClose(reason engineio.Reason, err error) {
	c.connectTimer.Stop()
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
	if c.closed || c.sockets[ns.name] != nil {
		c.mu.Unlock()
		return // a second CONNECT to a namespace the client is in
	}
	s := newSocket(ns, c, p.Data)
	c.sockets[ns.name] = s
	c.mu.Unlock()
	s.tasks.push(func() { ns.admit(s) }, true)
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
	if c.sockets[s.ns.name] == s {
		delete(c.sockets, s.ns.name)
	}
	c.mu.Unlock()
}

func (c *client) snapshot() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		out = append(out, s)
	}
	return out
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
