// Package sioclient is a small Socket.IO v5 client over WebSocket, for the
// project's own tests and load tool: it speaks the protocol directly, with no
// reconnection or buffering, so that a test sees exactly what the server sent.
package sioclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/roomcast/roomcast/parser"
)

// ErrClosed is returned once the connection has ended.
var ErrClosed = errors.New("sioclient: connection closed")

// Client is one Engine.IO WebSocket connection.
type Client struct {
	conn net.Conn
	r    io.Reader
	SID  string // the Engine.IO session id

	wmu     sync.Mutex
	gate    sync.Mutex // held while paused: the reader waits on it
	paused  bool
	mu      sync.Mutex
	nextAck uint64
	acks    map[uint64]chan *parser.Packet
	packets chan *parser.Packet
	done    chan struct{}
	err     error
}

// Dial opens a WebSocket session at url, such as
// "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket".
func Dial(ctx context.Context, url string) (*Client, error) {
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	c := &Client{conn: conn, r: bufio.NewReader(r), acks: map[uint64]chan *parser.Packet{},
		packets: make(chan *parser.Packet, 1024), done: make(chan struct{})}
	open, _, err := wsutil.ReadServerData(struct {
		io.Reader
		io.Writer
	}{c.r, conn})
	if err != nil || len(open) == 0 || open[0] != '0' {
		conn.Close()
		return nil, fmt.Errorf("sioclient: no open packet: %q %v", open, err)
	}
	var o struct {
		SID string `json:"sid"`
	}
	json.Unmarshal(open[1:], &o)
	c.SID = o.SID
	go c.readLoop()
	return c, nil
}

// Close ends the connection.
func (c *Client) Close() error {
	err := c.conn.Close()
	c.mu.Lock()
	if c.paused {
		c.paused = false
		c.gate.Unlock()
	}
	c.mu.Unlock()
	<-c.done
	return err
}

// Pause stops reading from the connection (until Close), as a client that
// stopped reading would: the server's writes back up.
func (c *Client) Pause() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.paused {
		c.paused = true
		c.gate.Lock()
	}
}

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

func (c *Client) readLoop() {
	defer close(c.done)
	defer close(c.packets)
	rw := struct {
		io.Reader
		io.Writer
	}{c.r, c.conn}
	var dec parser.Decoder
	for {
		c.gate.Lock()
		c.gate.Unlock()
		msg, op, err := wsutil.ReadServerData(rw)
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		if op == ws.OpBinary {
			if p, err := dec.Add(msg, true); err == nil && p != nil {
				c.route(p)
			}
			continue
		}
		if len(msg) == 0 {
			continue
		}
		switch msg[0] {
		case '2':
			c.writeText([]byte("3"))
		case '4':
			if p, err := dec.Add(msg[1:], false); err == nil && p != nil {
				c.route(p)
			}
		case '1':
			c.conn.Close()
		}
	}
}

func (c *Client) route(p *parser.Packet) {
	if (p.Type == parser.Ack || p.Type == parser.BinaryAck) && p.HasID {
		c.mu.Lock()
		ch := c.acks[p.ID]
		delete(c.acks, p.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- p
			return
		}
	}
	c.packets <- p
}

func (c *Client) writeText(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return wsutil.WriteClientText(c.conn, b)
}

// Send writes a packet (and its attachments).
func (c *Client) Send(p *parser.Packet) error {
	text, atts := parser.AppendEncode([]byte{'4'}, p)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := wsutil.WriteClientText(c.conn, text); err != nil {
		return err
	}
	for _, a := range atts {
		if err := wsutil.WriteClientBinary(c.conn, a); err != nil {
			return err
		}
	}
	return nil
}

// SendRaw writes one raw WebSocket text message, for malformed input.
func (c *Client) SendRaw(text string) error { return c.writeText([]byte(text)) }

// Next returns the next packet that is not an awaited ack.
func (c *Client) Next(ctx context.Context) (*parser.Packet, error) {
	select {
	case p, ok := <-c.packets:
		if !ok {
			return nil, ErrClosed
		}
		return p, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// NextEvent returns the next event packet of namespace nsp, skipping others.
func (c *Client) NextEvent(ctx context.Context, nsp string) (name string, args []json.RawMessage, p *parser.Packet, err error) {
	for {
		p, err = c.Next(ctx)
		if err != nil {
			return "", nil, nil, err
		}
		if p.Namespace != nsp || (p.Type != parser.Event && p.Type != parser.BinaryEvent) {
			continue
		}
		name, _ = p.EventName()
		args, _ = p.Args()
		return name, args, p, nil
	}
}

// Connect joins namespace nsp with an auth payload (nil for none) and
// returns the socket id, or the connect error's payload as an error.
func (c *Client) Connect(ctx context.Context, nsp string, auth any) (string, error) {
	p := &parser.Packet{Type: parser.Connect, Namespace: nsp}
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			return "", err
		}
		p.Data = b
	}
	if err := c.Send(p); err != nil {
		return "", err
	}
	for {
		r, err := c.Next(ctx)
		if err != nil {
			return "", err
		}
		if r.Namespace != nsp {
			continue
		}
		switch r.Type {
		case parser.Connect:
			var v struct {
				SID string `json:"sid"`
			}
			json.Unmarshal(r.Data, &v)
			return v.SID, nil
		case parser.ConnectError:
			return "", &ConnectError{Data: r.Data}
		}
	}
}

// ConnectError is a refused CONNECT.
type ConnectError struct{ Data json.RawMessage }

func (e *ConnectError) Error() string { return "connect_error " + string(e.Data) }

// Emit sends an event.
func (c *Client) Emit(nsp, event string, args ...any) error {
	data, atts, err := parser.EncodeArgs(event, args)
	if err != nil {
		return err
	}
	return c.Send(&parser.Packet{Type: parser.Event, Namespace: nsp, Data: data, Attachments: atts})
}

// EmitWithAck sends an event and waits for its acknowledgement.
func (c *Client) EmitWithAck(ctx context.Context, nsp, event string, args ...any) (*parser.Packet, error) {
	data, atts, err := parser.EncodeArgs(event, args)
	if err != nil {
		return nil, err
	}
	ch := make(chan *parser.Packet, 1)
	c.mu.Lock()
	id := c.nextAck
	c.nextAck++
	c.acks[id] = ch
	c.mu.Unlock()
	if err := c.Send(&parser.Packet{Type: parser.Event, Namespace: nsp, ID: id, HasID: true, Data: data, Attachments: atts}); err != nil {
		return nil, err
	}
	select {
	case p := <-ch:
		return p, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrClosed
	}
}

// Ack answers an event packet that asked for an acknowledgement.
func (c *Client) Ack(p *parser.Packet, args ...any) error {
	data, atts, err := parser.EncodeArgs("", args)
	if err != nil {
		return err
	}
	return c.Send(&parser.Packet{Type: parser.Ack, Namespace: p.Namespace, ID: p.ID, HasID: true, Data: data, Attachments: atts})
}

// URL builds the WebSocket URL of a server at http base (http://host:port).
func URL(base, path string) string {
	return "ws" + strings.TrimPrefix(base, "http") + path + "?EIO=4&transport=websocket"
}
