package engineio

import (
	"bytes"
	"compress/flate"
	"errors"
	"runtime"
	"strings"
	"testing"
)

func deflateForTest(t *testing.T, msg []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(msg)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// TestInflateBomb checks that a message that inflates far beyond the limit
// fails without allocating much more than the limit.
func TestInflateBomb(t *testing.T) {
	const limit = 1 << 20
	block := append(deflateForTest(t, make([]byte, 1<<20)), 0, 0, 0xff, 0xff)
	bomb := bytes.Repeat(block, 256) // 256 MiB inflated

	inflate(deflateForTest(t, []byte("warm the pool")), limit)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := inflate(bomb, limit)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrPayloadTooLarge) {
		t.Fatalf("inflate of a bomb: %v", err)
	}
	// The output buffer (limit+1) and a copy of the input with its tail.
	if n := after.TotalAlloc - before.TotalAlloc; n > limit+2*uint64(len(bomb))+64<<10 {
		t.Errorf("inflate allocated %d bytes for a limit of %d", n, limit)
	}
}

func TestInflate(t *testing.T) {
	msg := []byte(strings.Repeat("hello, deflate ", 1000))
	z := deflateForTest(t, msg)
	for limit, wantErr := range map[int64]error{
		int64(len(msg)) + 1: nil,
		int64(len(msg)):     nil,
		int64(len(msg)) - 1: ErrPayloadTooLarge,
		10:                  ErrPayloadTooLarge,
	} {
		got, err := inflate(bytes.Clone(z), limit)
		if !errors.Is(err, wantErr) || (err == nil && !bytes.Equal(got, msg)) {
			t.Errorf("limit %d: %d bytes, %v; want %v", limit, len(got), err, wantErr)
		}
	}
	if _, err := inflate([]byte{0xff, 0xfe}, 100); !errors.Is(err, errInflate) {
		t.Errorf("corrupt input: %v", err)
	}
	// An empty message as flate flushes it, and one ending in a final block.
	for _, in := range [][]byte{{0x00}, {0x03, 0x00}} {
		if got, err := inflate(in, 100); err != nil || len(got) != 0 {
			t.Errorf("inflate(%x) = %q, %v", in, got, err)
		}
	}
}

func TestDeflateCache(t *testing.T) {
	var c deflateCache
	msg := []byte(strings.Repeat("broadcast ", 200))
	z := c.get(msg)
	if z == nil {
		t.Fatal("compressible message not compressed")
	}
	if again := c.get(msg); &again[0] != &z[0] {
		t.Error("same bytes compressed twice")
	}
	if other := c.get(bytes.Clone(msg)); &other[0] == &z[0] || !bytes.Equal(other, z) {
		t.Error("equal bytes at another address must be compressed on their own, to the same result")
	}
	if got, err := inflate(bytes.Clone(z), 1<<20); err != nil || !bytes.Equal(got, msg) {
		t.Errorf("round trip: %v", err)
	}
	if c.get([]byte{1, 2, 3}) != nil {
		t.Error("a message that does not shrink must go uncompressed")
	}
}
