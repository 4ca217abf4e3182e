package engineio

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadPayload(t *testing.T) {
	for _, n := range []int{0, 1, payloadChunk - 1, payloadChunk, payloadChunk + 1, 5*payloadChunk + 7} {
		want := bytes.Repeat([]byte("abcdefg"), n/7+1)[:n]
		got, err := readPayload(iotest.HalfReader(bytes.NewReader(want)), int64(n), 4)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("n=%d: %d bytes, %v", n, len(got), err)
		}
		if cap(got) < n+4 && n <= payloadChunk {
			t.Errorf("n=%d: capacity %d, want room for 4 more", n, cap(got))
		}
	}
}

// TestReadPayloadAnnouncedNotSent: a header that announces a megabyte
// followed by ten bytes costs a chunk, not a megabyte.
func TestReadPayloadAnnouncedNotSent(t *testing.T) {
	got, err := readPayload(bytes.NewReader(make([]byte, 10)), 1<<20, 0)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("error %v, want unexpected EOF", err)
	}
	if cap(got) > payloadChunk {
		t.Errorf("capacity %d for 10 bytes received, want at most %d", cap(got), payloadChunk)
	}
}
