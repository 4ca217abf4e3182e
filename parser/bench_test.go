package parser_test

import (
	"testing"

	"github.com/roomcast/roomcast/parser"
)

var (
	smallEvent  = []byte(`2["chat message",{"user":"alice","text":"hello there"},42]`)
	binaryEvent = []byte(`51-/media,7["upload",{"name":"a.png"},{"_placeholder":true,"num":0}]`)
	attachment  = make([]byte, 1024)
)

func BenchmarkEncodeEvent(b *testing.B) {
	p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: smallEvent[1:]}
	dst := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = parser.AppendEncode(append(dst[:0], '4'), p)
	}
}

func BenchmarkEncodeBinaryEvent(b *testing.B) {
	p := &parser.Packet{Type: parser.Event, Namespace: "/media", ID: 7, HasID: true,
		Data: binaryEvent[len(`51-/media,7`):], Attachments: [][]byte{attachment}}
	dst := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = parser.AppendEncode(append(dst[:0], '4'), p)
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	var d parser.Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(smallEvent)))
	for b.Loop() {
		if p, err := d.Add(smallEvent, false); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	var d parser.Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Add(binaryEvent, false); err != nil {
			b.Fatal(err)
		}
		if p, err := d.Add(attachment, true); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitArray(b *testing.B) {
	data := smallEvent[1:]
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parser.SplitArray(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeArgs(b *testing.B) {
	args := []any{map[string]any{"user": "alice", "text": "hello there"}, 42, attachment}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parser.EncodeArgs("chat message", args); err != nil {
			b.Fatal(err)
		}
	}
}
