//go:build linux

package engineio

import (
	"net"
	"testing"
)

// TestWatchAfterShutdown: a connection shut down before its reader was
// set up (the session closed while the handshake handler still ran) is not
// registered: forget has run already and would never remove it, and the
// poller goroutine would outlive every connection.
func TestWatchAfterShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := &wsConn{conn: conn}
	// shutdown's first steps, then startReading's watch before the Close.
	c.stopped.Store(true)
	netpoll.forget(c)
	if netpoll.watch(c) {
		t.Error("watch registered a connection that was shut down")
	}
	conn.Close()
	netpoll.mu.Lock()
	n := len(netpoll.conns)
	netpoll.mu.Unlock()
	if n != 0 {
		t.Errorf("%d registrations left after the close", n)
	}
}
