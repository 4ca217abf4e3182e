package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/roomcast/roomcast/parser"
)

// transport is one Engine.IO connection: WebSocket or long-polling.
type transport interface {
	// read returns the next Engine.IO packet (text: type digit first;
	// binary: the raw bytes), valid until the next call. Reader goroutine only.
	read() (pkt []byte, binary bool, err error)
	// writeText sends text packets, together when the transport can.
	writeText(pkts ...[]byte) error
	close() error
}

var (
	_ transport = (*wsConn)(nil)
	_ transport = (*pollConn)(nil)
)

var noDeadline time.Time

// client is one Socket.IO connection of the generator, on namespace "/".
// Its reader goroutine answers pings and hands every Socket.IO packet to
// onMsg, which runs on that goroutine: state touched only there needs no lock.
type client struct {
	id      int
	tr      transport
	polling bool
	room    int // index of the client's room, -1 for none

	onMsg func(c *client, pkt []byte) // a Socket.IO packet: text after the Engine.IO '4'

	last    int64   // fanout: last seq received (reader goroutine only)
	scratch scratch // the reader goroutine's buffers for outgoing packets

	seq    atomic.Int64 // echo: echoes sent, the next one's seq and ack id
	recv   atomic.Int64 // messages (fanout) or acks (echo) received
	lastAt atomic.Int64 // when the last one arrived, ns since the run's start

	closing atomic.Bool   // set before the generator closes it
	done    chan struct{} // closed when the reader goroutine returns
	err     error         // why the reader returned, once done is closed
}

// scratch holds the buffers a goroutine builds packets in.
type scratch struct{ data, pkt []byte }

// dialer opens connections to a server, or to the servers of a cluster in
// turn, from a set of source addresses.
type dialer struct {
	hosts   []string // host:port of each server
	path    string   // Socket.IO path, "/socket.io/"
	sources []net.IP
	next    atomic.Uint64
	timeout time.Duration
	bufSize int
	hc      *http.Client // for polling clients
}

func newDialer(hosts []string, path string, sources []net.IP, timeout time.Duration, bufSize int) *dialer {
	d := &dialer{hosts: hosts, path: path, sources: sources, timeout: timeout, bufSize: bufSize}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return d.netDialer().DialContext(ctx, "tcp", addr)
		},
		MaxIdleConnsPerHost: 1 << 16,
		DisableCompression:  true,
		IdleConnTimeout:     90 * time.Second,
	}
	d.hc = &http.Client{Transport: tr}
	return d
}

// netDialer returns a dialer bound to the next source address, in turn.
func (d *dialer) netDialer() *net.Dialer {
	nd := &net.Dialer{Timeout: d.timeout, Control: bindNoPort}
	if len(d.sources) > 0 {
		ip := d.sources[d.next.Add(1)%uint64(len(d.sources))]
		nd.LocalAddr = &net.TCPAddr{IP: ip}
	}
	return nd
}

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT, so that binding a source address
// leaves the port to connect(2): ports are then unique per destination, not
// per source address, and TIME_WAIT ones can be reused.
func bindNoPort(_, _ string, rc syscall.RawConn) error {
	const ipBindAddressNoPort = 24 // linux/in.h
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	return nil
}

// open dials one client, WebSocket or polling, and joins namespace "/" with
// auth (nil for none). The reader goroutine is not started yet.
// server returns the index of the server client id connects to: clients
// round robin; -1 (the publisher) the first server, -(j+1) server j.
func (d *dialer) server(id int) int {
	if id >= 0 {
		return id % len(d.hosts)
	}
	return (-id - 1) % len(d.hosts)
}

func (d *dialer) hostOf(id int) string { return d.hosts[d.server(id)] }

func (d *dialer) open(ctx context.Context, id int, polling bool, auth []byte) (*client, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	c := &client{id: id, polling: polling, room: -1, done: make(chan struct{})}
	if polling {
		pc, err := dialPolling(ctx, d.hc, d.hostOf(id), d.path)
		if err != nil {
			return nil, err
		}
		c.tr = pc
	} else {
		ws, err := dialWS(ctx, d.netDialer(), d.hostOf(id), d.path+"?EIO=4&transport=websocket", d.bufSize)
		if err != nil {
			return nil, err
		}
		c.tr = ws
		ws.nc.SetReadDeadline(time.Now().Add(d.timeout))
		open, _, err := ws.read()
		if err == nil && (len(open) == 0 || open[0] != '0') {
			err = fmt.Errorf("no open packet: %.60q", open)
		}
		if err != nil {
			ws.nc.Close()
			return nil, err
		}
	}
	// A polling session's GETs outlive ctx: bound the CONNECT by ending the
	// session if it takes too long.
	var expire *time.Timer
	if pc, ok := c.tr.(*pollConn); ok {
		expire = time.AfterFunc(time.Until(deadlineOf(ctx)), pc.cancel)
	}
	err := c.connect(auth)
	if expire != nil && !expire.Stop() && err == nil {
		err = errors.New("polling: no CONNECT answer in time")
	}
	if err != nil {
		c.tr.close()
		return nil, err
	}
	if ws, ok := c.tr.(*wsConn); ok {
		ws.nc.SetReadDeadline(noDeadline)
	}
	return c, nil
}

// connect sends the Socket.IO CONNECT of "/" and waits for the answer.
func (c *client) connect(auth []byte) error {
	p := parser.Packet{Type: parser.Connect, Namespace: "/", Data: auth}
	pkt, _ := parser.AppendEncode([]byte{'4'}, &p)
	if err := c.tr.writeText(pkt); err != nil {
		return err
	}
	for {
		b, binary, err := c.tr.read()
		if err != nil {
			return err
		}
		if binary || len(b) == 0 {
			continue
		}
		switch b[0] {
		case '2':
			c.tr.writeText(pongPacket)
		case '1':
			return errClosed
		case '4':
			r, err := parser.Decode(b[1:])
			if err != nil {
				return err
			}
			if r.Namespace != "/" {
				continue
			}
			switch r.Type {
			case parser.Connect:
				return nil
			case parser.ConnectError:
				return fmt.Errorf("connect_error %s", r.Data)
			}
		}
	}
}

var pongPacket = []byte("3")

// pings counts the Engine.IO pings answered by every client of the process.
var pings atomic.Int64

// readLoop is the client's goroutine: it answers pings and passes Socket.IO
// packets to onMsg until the connection ends.
func (c *client) readLoop() {
	defer close(c.done)
	for {
		b, binary, err := c.tr.read()
		if err != nil {
			c.err = err
			return
		}
		if binary || len(b) == 0 {
			continue // attachments: the load scenarios send none
		}
		switch b[0] {
		case '2':
			pings.Add(1)
			if err := c.tr.writeText(pongPacket); err != nil {
				c.err = err
				return
			}
		case '4':
			if c.onMsg != nil {
				c.onMsg(c, b[1:])
			}
		case '1':
			c.err = errClosed
			return
		}
	}
}

// dropped reports whether the connection ended before the generator closed it.
func (c *client) dropped() bool {
	select {
	case <-c.done:
		return !c.closing.Load()
	default:
		return false
	}
}

// shut closes the client and waits for its reader goroutine.
func (c *client) shut() {
	c.closing.Store(true)
	c.tr.close()
	<-c.done
}

// openSID returns the sid of an Engine.IO open packet ("0{...}").
func openSID(open []byte) (string, error) {
	var o struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(open[1:], &o); err != nil || o.SID == "" {
		return "", errors.New("open packet without sid")
	}
	return o.SID, nil
}

// deadlineOf returns ctx's deadline (open always sets one).
func deadlineOf(ctx context.Context) time.Time {
	dl, _ := ctx.Deadline()
	return dl
}
