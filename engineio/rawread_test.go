//go:build linux

package engineio

import (
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

// rawReader reads as net.Conn's Read does: what has arrived, a wait (with
// the connection's deadline) when nothing has, io.EOF once the peer closed.
func TestRawReader(t *testing.T) {
	conn, peer := tcpPair(t)
	raw, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	r := rawReader{raw}
	buf := make([]byte, 64)

	// Nothing has arrived: the read waits, until the deadline here.
	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := r.Read(buf); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read with nothing sent: %d, %v; want a deadline error", n, err)
	}
	conn.SetReadDeadline(time.Time{})

	// A read that waits gets what arrives meanwhile.
	go func() {
		time.Sleep(20 * time.Millisecond)
		peer.Write([]byte("hello"))
	}()
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read: %q, %v; want hello", buf[:n], err)
	}

	peer.Write([]byte("bye"))
	peer.Close()
	var got []byte
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read after the peer closed: %v", err)
		}
	}
	if string(got) != "bye" {
		t.Fatalf("got %q before EOF, want bye", got)
	}

	// A closed connection's reader says so, and does not touch the
	// descriptor's number, which the next socket may have.
	conn.Close()
	if _, err := r.Read(buf); err == nil || errors.Is(err, syscall.EBADF) {
		t.Fatalf("read on a closed connection: %v; want the net package's closed error", err)
	}
}
