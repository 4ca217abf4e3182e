package engineio_test

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/roomcast/roomcast/engineio"
)

// Writes made by SendNow's caller keep working after WriteTimeout has gone
// by since the last write of a writer goroutine: the socket refuses every
// write once the deadline the writers set has passed, waiting or not.
func TestSendNowPastWriteTimeout(t *testing.T) {
	h := newHarness(t, engineio.Options{WriteTimeout: 100 * time.Millisecond}, false)
	c, sid := h.openWS()
	s := h.rec.session(sid)
	for i := range 12 {
		if err := s.SendNow(engineio.TextMessage([]byte(strconv.Itoa(i)))); err != nil {
			t.Fatal(err)
		}
		c.expect("4" + strconv.Itoa(i))
		time.Sleep(25 * time.Millisecond)
	}
}

// A socket whose send buffer is full takes part of a SendNow, or none of
// it: the writer sends the rest, before whatever Send and SendNow queue
// after it, so the client gets every message whole and in order.
func TestSendNowFullSocket(t *testing.T) {
	h := newHarness(t, engineio.Options{MaxQueueBytes: 64 << 20}, false)
	c, sid := h.openWS()
	s := h.rec.session(sid)
	const n = 120
	msg := func(i int) []byte {
		return append([]byte(fmt.Sprintf("%03d:", i)), bytes.Repeat([]byte{'a' + byte(i%26)}, 128<<10)...)
	}
	// The client reads nothing yet: after a few MiB the kernel's buffers
	// are full and the writes below are partial, then refused. The last
	// ones mix in Send, which queues behind the rest.
	for i := range n {
		send := s.SendNow
		if i >= 100 && i%3 == 2 {
			send = s.Send
		}
		if err := send(engineio.TextMessage(msg(i))); err != nil {
			t.Fatal(i, err)
		}
	}
	for i := range n {
		got, _, err := c.read()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if want := "4" + string(msg(i)); got != want {
			t.Fatalf("message %d: got %q…, want %q…", i, got[:min(len(got), 8)], want[:8])
		}
	}
}

// SendNow on a polling session queues, as Send does: the next GET gets it.
func TestSendNowPolling(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	sid := h.openPolling()
	s := h.rec.session(sid)
	if err := s.SendNow(engineio.TextMessage([]byte("hi"))); err != nil {
		t.Fatal(err)
	}
	if code, body := h.poll(sid); code != 200 || body != "4hi" {
		t.Fatalf("poll: %d %q", code, body)
	}
}

// A writer that has to wait for a client that reads nothing gives up after
// WriteTimeout and closes the session.
func TestWriteTimeoutClosesStalledClient(t *testing.T) {
	h := newHarness(t, engineio.Options{WriteTimeout: 200 * time.Millisecond, MaxQueueBytes: 64 << 20}, false)
	_, sid := h.openWS() // and never read again
	s := h.rec.session(sid)
	big := bytes.Repeat([]byte{'x'}, 1<<20)
	start := time.Now()
	for range 32 { // far more than the kernel buffers on both sides hold
		if err := s.Send(engineio.TextMessage(big)); err != nil {
			break
		}
	}
	e := h.rec.waitClose(t, sid)
	if e.reason != engineio.ReasonTransportError {
		t.Fatalf("closed with %q (%v), want a transport error", e.reason, e.err)
	}
	t.Logf("closed after %v: %v", time.Since(start), e.err)
}

// After a write that had to wait, the writes that need not wait still go
// out without waiting, however long after: the deadline set for the wait
// does not stay behind to refuse them.
func TestWritesAfterAWaitedWrite(t *testing.T) {
	// The timeout leaves the client (slow under -race) time to read the big
	// message; the test then waits until it has passed.
	const timeout = time.Second
	h := newHarness(t, engineio.Options{WriteTimeout: timeout, MaxQueueBytes: 64 << 20}, false)
	c, sid := h.openWS()
	s := h.rec.session(sid)
	big := bytes.Repeat([]byte{'y'}, 4<<20) // more than the socket takes at once
	if err := s.Send(engineio.TextMessage(big)); err != nil {
		t.Fatal(err)
	}
	if got, _, err := c.read(); err != nil || len(got) != 1+len(big) {
		t.Fatalf("big message: %d bytes, %v", len(got), err)
	}
	time.Sleep(timeout + timeout/4) // past the deadline of that write
	for i := range 3 {
		send := s.Send
		if i == 1 {
			send = s.SendNow
		}
		if err := send(engineio.TextMessage([]byte("after"))); err != nil {
			t.Fatal(err)
		}
		c.expect("4after")
	}
}
