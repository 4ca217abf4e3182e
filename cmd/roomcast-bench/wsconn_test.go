package main

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// serverFrame encodes an unmasked frame as a server sends it.
func serverFrame(t *testing.T, fin bool, op ws.OpCode, payload []byte) []byte {
	var b bytes.Buffer
	if err := ws.WriteFrame(&b, ws.Frame{Header: ws.Header{Fin: fin, OpCode: op, Length: int64(len(payload))}, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWSRead(t *testing.T) {
	cli, srv := net.Pipe()
	defer cli.Close()
	defer srv.Close()
	c := &wsConn{nc: cli, br: bufio.NewReaderSize(cli, 64)}
	big := bytes.Repeat([]byte("z"), 300) // larger than the buffer: 16-bit length
	var stream []byte
	stream = append(stream, serverFrame(t, true, ws.OpText, []byte("4hello"))...)
	stream = append(stream, serverFrame(t, false, ws.OpText, []byte("4ab"))...)
	stream = append(stream, serverFrame(t, true, ws.OpPing, []byte("p"))...)
	split := len(stream) // the client answers the ping before it reads on
	stream = append(stream, serverFrame(t, true, ws.OpContinuation, []byte("cd"))...)
	stream = append(stream, serverFrame(t, true, ws.OpBinary, []byte{1, 2, 3})...)
	stream = append(stream, serverFrame(t, true, ws.OpText, big)...)
	stream = append(stream, serverFrame(t, true, ws.OpClose, []byte{3, 232})...)

	type frame struct {
		ws.Frame
		masked bool
	}
	pong := make(chan frame, 1)
	go func() {
		srv.Write(stream[:split])
		// net.Pipe is synchronous: read the client's pong before going on.
		f, err := ws.ReadFrame(srv)
		masked := f.Header.Masked
		if err == nil {
			f = ws.UnmaskFrameInPlace(f)
		}
		pong <- frame{f, masked}
		srv.Write(stream[split:])
	}()

	want := []struct {
		msg string
		bin bool
	}{{"4hello", false}, {"4abcd", false}, {"\x01\x02\x03", true}, {string(big), false}}
	for _, w := range want {
		msg, bin, err := c.read()
		if err != nil {
			t.Fatalf("reading %.10q: %v", w.msg, err)
		}
		if string(msg) != w.msg || bin != w.bin {
			t.Fatalf("read %.20q binary %v, want %.20q %v", msg, bin, w.msg, w.bin)
		}
	}
	if _, _, err := c.read(); !errors.Is(err, errClosed) {
		t.Fatalf("after a close frame: %v", err)
	}
	f := <-pong
	if f.Header.OpCode != ws.OpPong || string(f.Payload) != "p" || !f.masked {
		t.Errorf("pong %+v %q", f.Header, f.Payload)
	}
}

func TestWSWriteIsMasked(t *testing.T) {
	cli, srv := net.Pipe()
	defer cli.Close()
	defer srv.Close()
	c := &wsConn{nc: cli, key: [4]byte{1, 2, 3, 4}}
	long := bytes.Repeat([]byte("y"), 70000) // 64-bit length
	done := make(chan error, 1)
	go func() { done <- c.writeText([]byte("42[\"a\"]"), []byte("3"), long) }()
	for _, want := range [][]byte{[]byte("42[\"a\"]"), []byte("3"), long} {
		f, err := ws.ReadFrame(srv)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Header.Masked || !f.Header.Fin || f.Header.OpCode != ws.OpText {
			t.Errorf("header %+v", f.Header)
		}
		f = ws.UnmaskFrameInPlace(f)
		if !bytes.Equal(f.Payload, want) {
			t.Errorf("payload %.20q, want %.20q", f.Payload, want)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// loopReader serves the same bytes forever.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

// BenchmarkReceive is a member's work for one delivery: read the frame,
// find the stamp, record the latency.
func BenchmarkReceive(b *testing.B) {
	msg := append(append([]byte(`42["msg",`), appendPayload(nil, time.Millisecond, 1, makePad(100))...), ']')
	var frame bytes.Buffer
	ws.WriteFrame(&frame, ws.NewTextFrame(msg))
	c := &wsConn{br: bufio.NewReaderSize(&loopReader{data: bytes.Repeat(frame.Bytes(), 64)}, 4096)}
	f := &fanout{r: &runner{start: time.Now()}, window: 1}
	cl := &client{last: -1}
	b.ReportAllocs()
	b.SetBytes(int64(frame.Len()))
	for b.Loop() {
		m, _, err := c.read()
		if err != nil {
			b.Fatal(err)
		}
		cl.last = -1
		f.onMember(cl, m[1:])
	}
	if cl.recv.Load() == 0 {
		b.Fatal("nothing received")
	}
}
