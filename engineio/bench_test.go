package engineio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
)

var benchText = []byte(`2["chat message",{"from":"alice","text":"hello, world"}]`)

func benchTextFrames() []Frame {
	frames := make([]Frame, 10)
	for i := range frames {
		frames[i] = TextMessage(benchText)
	}
	return frames
}

func benchBinaryFrames() []Frame {
	frames := make([]Frame, 10)
	for i := range frames {
		frames[i] = BinaryMessage(bytes.Repeat([]byte{byte(i)}, 256))
	}
	return frames
}

func BenchmarkEncodePayload(b *testing.B) {
	frames := benchTextFrames()
	b.ReportAllocs()
	b.SetBytes(int64(len(encodePayload(frames))))
	for b.Loop() {
		encodePayload(frames)
	}
}

func BenchmarkEncodePayloadBinary(b *testing.B) {
	frames := benchBinaryFrames()
	b.ReportAllocs()
	b.SetBytes(int64(len(encodePayload(frames))))
	for b.Loop() {
		encodePayload(frames)
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	body := encodePayload(append(benchTextFrames(), benchBinaryFrames()[:2]...))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	visit := func(packet) error { return nil }
	for b.Loop() {
		if err := decodePayload(body, visit); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTextMessage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		TextMessage(benchText)
	}
}

func BenchmarkAppendFrameHeader(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendFrameHeader(buf[:0], ws.OpText, 100)
		buf = appendFrameHeader(buf, ws.OpBinary, 1000)
		buf = appendFrameHeader(buf, ws.OpText, 70000)
	}
}

// BenchmarkWebSocketFanout sends one shared Frame to 1000 WebSocket sessions
// per iteration, over loopback, and waits until every client has read it.
// The clients read with readServerFrame, which allocates nothing, so that
// allocs/op counts the server's allocations.
func BenchmarkWebSocketFanout(b *testing.B) {
	f := TextMessage(benchText)
	benchFanout(b, Options{}, ws.Dialer{}, func() Frame { return f })
}

// BenchmarkWebSocketFanoutDeflate is the same with permessage-deflate and a
// new 4 KiB message per iteration, compressed once for all sessions.
func BenchmarkWebSocketFanoutDeflate(b *testing.B) {
	d := ws.Dialer{Extensions: []httphead.Option{deflateParams.Option()}}
	msg := bytes.Repeat(benchText, 4096/len(benchText))
	benchFanout(b, Options{PerMessageDeflate: true}, d, func() Frame { return TextMessage(msg) })
}

// benchFanout sends next() to 1000 sessions per iteration.
func benchFanout(b *testing.B, opts Options, dialer ws.Dialer, next func() Frame) {
	const n = 1000
	var (
		mu       sync.Mutex
		sessions []*Session
	)
	opts.PingInterval, opts.PingTimeout = time.Hour, time.Hour
	opts.Logger = slog.New(slog.DiscardHandler)
	srv := NewServer(opts, func(s *Session) Receiver {
		mu.Lock()
		sessions = append(sessions, s)
		mu.Unlock()
		return nopReceiver{}
	})
	hs := httptest.NewServer(srv)
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/engine.io/?EIO=4&transport=websocket"

	var (
		pending atomic.Int64
		done    = make(chan struct{}, 1)
		readers sync.WaitGroup
		conns   []net.Conn
	)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		readers.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	}()
	for range n {
		conn, br, _, err := dialer.Dial(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, conn)
		var r io.Reader = conn
		if br != nil {
			r = io.MultiReader(br, conn)
		}
		rd := bufio.NewReader(r)
		if err := readServerFrame(rd); err != nil { // the open packet
			b.Fatal(err)
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			for readServerFrame(rd) == nil {
				if pending.Add(-1) == 0 {
					done <- struct{}{}
				}
			}
		}()
	}
	// The open packet is written after the session is registered.
	mu.Lock()
	all := sessions
	mu.Unlock()
	if len(all) != n {
		b.Fatalf("%d sessions", len(all))
	}

	timeout := time.NewTimer(time.Hour)
	defer timeout.Stop()
	b.ReportAllocs()
	for b.Loop() {
		timeout.Reset(10 * time.Second)
		pending.Store(n)
		f := next()
		for _, s := range all {
			if err := s.Send(f); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-done:
		case <-timeout.C:
			b.Fatalf("%d clients did not get the frame", pending.Load())
		}
	}
}

// readServerFrame reads and discards one unmasked frame without allocating.
func readServerFrame(r *bufio.Reader) error {
	h, err := r.Peek(2)
	if err != nil {
		return err
	}
	if h[0]&0x0f == byte(ws.OpClose) {
		return io.EOF
	}
	size, hl := int(h[1]&0x7f), 2
	switch size {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	if h, err = r.Peek(hl); err != nil {
		return err
	}
	switch size {
	case 126:
		size = int(binary.BigEndian.Uint16(h[2:]))
	case 127:
		size = int(binary.BigEndian.Uint64(h[2:]))
	}
	_, err = r.Discard(hl + size)
	return err
}
