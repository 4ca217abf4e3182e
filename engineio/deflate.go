package engineio

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// The WebSocket permessage-deflate extension (RFC 7692), negotiated with
// server_no_context_takeover and client_no_context_takeover: every message is
// compressed on its own, in both directions. No connection keeps a
// compression window between messages, so compressors and decompressors are
// pooled across connections, and a message broadcast to many sessions is
// compressed once (see deflateCache).

var errInflate = errors.New("engineio: invalid permessage-deflate data")

// deflateParams is what the server accepts and answers.
var deflateParams = wsflate.Parameters{
	ServerNoContextTakeover: true,
	ClientNoContextTakeover: true,
}

// deflateNegotiator returns the upgrader's Negotiate callback and a function
// that reports, once the handshake is done, whether the extension was accepted.
// An offer the server cannot honour (server_max_window_bits, for compress/flate
// always uses a 32 KiB window) or a malformed one is declined, not refused:
// the connection goes on uncompressed (RFC 7692 section 5).
func deflateNegotiator() (negotiate func(httphead.Option) (httphead.Option, error), accepted func() bool) {
	ext := &wsflate.Extension{Parameters: deflateParams}
	negotiate = func(offer httphead.Option) (httphead.Option, error) {
		accept, err := ext.Negotiate(offer)
		if err != nil {
			return httphead.Option{}, nil
		}
		return accept, nil
	}
	accepted = func() bool {
		_, ok := ext.Accepted()
		return ok
	}
	return negotiate, accepted
}

// deflateTail ends a compressed message for the decompressor: the empty stored
// block the sender stripped (00 00 ff ff), then an empty final block so that
// the stream ends with io.EOF.
const deflateTail = "\x00\x00\xff\xff\x01\x00\x00\xff\xff"

type inflater struct {
	src bytes.Reader
	zr  io.ReadCloser
}

var inflaters = sync.Pool{New: func() any { return new(inflater) }}

// inflate decompresses one message. msg must have room for deflateTail past
// its length, or it is copied once. The result is at most limit bytes: a
// message that would inflate beyond it fails with ErrPayloadTooLarge, and no
// buffer larger than limit+1 bytes is allocated on the way.
func inflate(msg []byte, limit int64) ([]byte, error) {
	z := inflaters.Get().(*inflater)
	defer func() {
		z.src.Reset(nil)
		inflaters.Put(z)
	}()
	z.src.Reset(append(msg, deflateTail...))
	if z.zr == nil {
		z.zr = flate.NewReader(&z.src)
	} else {
		z.zr.(flate.Resetter).Reset(&z.src, nil)
	}
	out := make([]byte, 0, min(limit+1, max(1024, 4*int64(len(msg)))))
	for {
		if int64(len(out)) > limit {
			return nil, ErrPayloadTooLarge
		}
		if len(out) == cap(out) {
			grown := make([]byte, len(out), min(limit+1, 2*int64(cap(out))))
			copy(grown, out)
			out = grown
		}
		n, err := z.zr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		switch {
		case err == io.EOF:
			if int64(len(out)) > limit {
				return nil, ErrPayloadTooLarge
			}
			return out, nil
		case err != nil:
			return nil, errInflate
		}
	}
}

var deflaters = sync.Pool{New: func() any {
	// BestSpeed: Engine.IO messages are small and latency-bound, and a
	// broadcast waits for its compression.
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// deflate compresses one message as permessage-deflate sends it (without the
// 00 00 ff ff tail). It returns nil when compression would not make the
// message smaller: the message then goes uncompressed.
func deflate(msg []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(msg)/2 + 64)
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&buf)
	w.Write(msg) // a bytes.Buffer does not fail
	w.Flush()
	w.Reset(nil)
	deflaters.Put(w)
	out := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
	if len(out) >= len(msg) {
		return nil
	}
	return out
}

// deflateCache remembers the compressed form of the last messages written, so
// that a Frame broadcast to many sessions is compressed once and every session
// writes the same bytes. Entries are found by the identity of the message's
// bytes (a Frame's bytes never change) and keep those bytes alive, so that
// their address cannot be reused by another message while cached.
type deflateCache struct {
	slots [16]atomic.Pointer[deflateEntry]
}

type deflateEntry struct {
	src []byte // the uncompressed message, held so that its address stays unique
	out []byte // nil: not worth compressing
}

// get returns msg compressed, or nil when it goes uncompressed.
func (c *deflateCache) get(msg []byte) []byte {
	n := len(msg)
	h := uint32(n) ^ uint32(msg[0])<<8 ^ uint32(msg[n/2])<<16 ^ uint32(msg[n-1])<<24
	slot := &c.slots[(h*0x9e3779b1)>>28] // Fibonacci hashing onto 16 slots
	if e := slot.Load(); e != nil && len(e.src) == n && &e.src[0] == &msg[0] {
		return e.out
	}
	out := deflate(msg)
	slot.Store(&deflateEntry{src: msg, out: out})
	return out
}
