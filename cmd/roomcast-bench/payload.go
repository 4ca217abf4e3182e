package main

import (
	"bytes"
	"strconv"
	"time"

	"github.com/roomcast/roomcast/parser"
)

// appendPayload appends the generator's payload,
// {"t":<ns since the generator started>,"seq":<n>,"pad":"<pad>"}.
func appendPayload(dst []byte, t time.Duration, seq int64, pad []byte) []byte {
	dst = append(dst, `{"t":`...)
	dst = strconv.AppendInt(dst, int64(t), 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"pad":"`...)
	dst = append(dst, pad...)
	return append(dst, `"}`...)
}

// makePad returns n bytes of pad, plain ASCII that needs no escaping.
func makePad(n int) []byte { return bytes.Repeat([]byte{'x'}, n) }

var (
	keyT   = []byte(`"t":`)
	keySeq = []byte(`"seq":`)
)

// parseStamp finds the "t" and "seq" of a payload in a packet's bytes without
// decoding the JSON: the pad is made of 'x' only, so the keys cannot appear
// inside it, and every server relays the object with its keys in order.
func parseStamp(b []byte) (t, seq int64, ok bool) {
	i := bytes.Index(b, keyT)
	if i < 0 {
		return 0, 0, false
	}
	b = b[i+len(keyT):]
	t, n := parseInt(b)
	if n == 0 {
		return 0, 0, false
	}
	b = b[n:]
	j := bytes.Index(b, keySeq)
	if j < 0 {
		return 0, 0, false
	}
	seq, n = parseInt(b[j+len(keySeq):])
	if n == 0 {
		return 0, 0, false
	}
	return t, seq, true
}

// parseInt parses the non-negative decimal integer that b starts with and
// returns it with the number of bytes it took (0 for none).
func parseInt(b []byte) (v int64, n int) {
	for n < len(b) && n < 19 && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int64(b[n]-'0')
		n++
	}
	return v, n
}

// appendEvent appends the Engine.IO message packet ('4') of a Socket.IO event
// of "/" whose JSON array is data, with ack id id when hasID.
func appendEvent(dst []byte, data []byte, id int64, hasID bool) []byte {
	p := parser.Packet{Type: parser.Event, Namespace: "/", ID: uint64(id), HasID: hasID, Data: data}
	dst, _ = parser.AppendEncode(append(dst, '4'), &p)
	return dst
}

// appendQuotedName appends a JSON string of a name made of plain characters
// (room names, event names of this tool).
func appendQuotedName(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
