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
	conn, _ := tcpPair(t)
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

// tcpPair returns both ends of a loopback TCP connection, closed when the
// test ends: the accepted one, then the dialled one.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialled, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dialled.Close() })
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { accepted.Close() })
	return accepted.(*net.TCPConn), dialled.(*net.TCPConn)
}
