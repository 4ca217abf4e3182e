package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/roomcast/roomcast/parser"
)

func TestPayloadRoundTrip(t *testing.T) {
	pad := makePad(37)
	b := appendPayload(nil, 123456789*time.Nanosecond, 42, pad)
	var v struct {
		T   int64  `json:"t"`
		Seq int64  `json:"seq"`
		Pad string `json:"pad"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if v.T != 123456789 || v.Seq != 42 || v.Pad != string(pad) {
		t.Errorf("decoded %+v", v)
	}
	tt, seq, ok := parseStamp(b)
	if !ok || tt != 123456789 || seq != 42 {
		t.Errorf("parseStamp(%s) = %d, %d, %v", b, tt, seq, ok)
	}
}

// The packets as the servers send them: a broadcast's "msg" and an echo's ack.
func TestParseStampInPackets(t *testing.T) {
	payload := appendPayload(nil, 5*time.Second, 7, makePad(3))
	data := append(append([]byte(`["msg",`), payload...), ']')
	msg, _ := parser.AppendEncode(nil, &parser.Packet{Type: parser.Event, Namespace: "/", Data: data})
	if string(msg[:len(msgPrefix)]) != string(msgPrefix) {
		t.Fatalf("a msg event is %s, not prefixed by %s", msg, msgPrefix)
	}
	tt, seq, ok := parseStamp(msg[len(msgPrefix):])
	if !ok || tt != 5e9 || seq != 7 {
		t.Errorf("msg: %d %d %v", tt, seq, ok)
	}
	ack, _ := parser.AppendEncode(nil, &parser.Packet{Type: parser.Ack, Namespace: "/", ID: 12, HasID: true,
		Data: append(append([]byte{'['}, payload...), ']')})
	if tt, seq, ok := parseStamp(ack); !ok || tt != 5e9 || seq != 7 {
		t.Errorf("ack %s: %d %d %v", ack, tt, seq, ok)
	}
}

func TestParseStampRejects(t *testing.T) {
	for _, s := range []string{``, `{}`, `{"t":}`, `{"t":1}`, `{"t":1,"seq":}`, `{"t":"1","seq":2}`, `{"seq":2}`} {
		if _, _, ok := parseStamp([]byte(s)); ok {
			t.Errorf("parseStamp(%s) accepted", s)
		}
	}
}

func TestAppendEvent(t *testing.T) {
	got := appendEvent([]byte("x"), []byte(`["echo",1]`), 9, true)
	if string(got) != `x429["echo",1]` {
		t.Errorf("with id: %s", got)
	}
	got = appendEvent(nil, []byte(`["broadcast","r1",{}]`), 0, false)
	if string(got) != `42["broadcast","r1",{}]` {
		t.Errorf("without id: %s", got)
	}
	p, err := parser.Decode(got[1:])
	if err != nil || p.Type != parser.Event || p.Namespace != "/" {
		t.Errorf("decoded %+v, %v", p, err)
	}
}

func BenchmarkParseStamp(b *testing.B) {
	msg := append(append([]byte(`2["msg",`), appendPayload(nil, time.Hour, 123456, makePad(100))...), ']')
	b.ReportAllocs()
	for b.Loop() {
		parseStamp(msg)
	}
}
