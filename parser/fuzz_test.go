package parser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/roomcast/roomcast/parser"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/.

// FuzzDecode feeds a text message and then up to nbin binary messages (bin cut
// into pieces) through a Decoder, and checks every packet it yields: the
// payload is the input's tail, valid JSON and valid for the type, and the
// packet survives an encode/decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, text, bin []byte, nbin uint8) {
		var d parser.Decoder
		p, err := d.Add(text, false)
		if err != nil {
			if p != nil {
				t.Fatalf("packet and error together: %v", err)
			}
			if _, err := d.Add([]byte{0}, true); !errors.Is(err, parser.ErrUnexpectedBinary) {
				t.Fatalf("decoder not reset after error: %v", err)
			}
			return
		}
		fed := 0
		for _, msg := range cut(bin, int(nbin%12)) {
			if p != nil {
				break
			}
			fed++
			if p, err = d.Add(msg, true); err != nil {
				t.Fatalf("binary message %d: %v", fed, err)
			}
		}
		if p == nil {
			return // still awaiting attachments
		}
		if len(p.Attachments) != fed {
			t.Fatalf("packet has %d attachments after %d binary messages", len(p.Attachments), fed)
		}
		if fed > 0 {
			count := text[1:bytes.IndexByte(text, '-')]
			if n, err := strconv.Atoi(string(count)); err != nil || n != fed {
				t.Fatalf("completed after %d attachments, header %q", fed, text)
			}
		}
		checkPacket(t, text, p)
	})
}

func checkPacket(t *testing.T, text []byte, p *parser.Packet) {
	t.Helper()
	if p.Namespace == "" || p.Namespace[0] != '/' {
		t.Fatalf("namespace %q", p.Namespace)
	}
	if p.HasID && p.ID > 1<<53-1 {
		t.Fatalf("id %d", p.ID)
	}
	if !bytes.HasSuffix(text, p.Data) {
		t.Fatalf("Data %q is not the tail of %q", p.Data, text)
	}
	if p.Data != nil && !json.Valid(p.Data) {
		t.Fatalf("accepted invalid JSON %q", p.Data)
	}
	if p.Data != nil && !utf8.Valid(p.Data) {
		t.Fatalf("accepted invalid UTF-8 %q", p.Data)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("decoded packet does not validate: %v", err)
	}
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		var elems []json.RawMessage
		if json.Unmarshal(p.Data, &elems) != nil || len(elems) == 0 {
			t.Fatalf("event data %q is not a non-empty array", p.Data)
		}
		name, err := p.EventName()
		var s string
		if json.Unmarshal(elems[0], &s) == nil {
			if err != nil || name != s || parser.IsReservedEvent(s) {
				t.Fatalf("EventName = %q, %v; want %q", name, err, s)
			}
		} else if c := elems[0][0]; c != '-' && (c < '0' || c > '9') || err == nil {
			t.Fatalf("first element %q accepted; EventName = %q, %v", elems[0], name, err)
		}
		fallthrough
	case parser.Ack, parser.BinaryAck:
		args, err := p.Args()
		if err != nil {
			t.Fatalf("Args: %v", err)
		}
		for _, a := range args {
			if !json.Valid(a) {
				t.Fatalf("arg %q is not JSON", a)
			}
			if b, ok := parser.ResolvePlaceholder(a, p.Attachments); ok && !containsSlice(p.Attachments, b) {
				t.Fatalf("ResolvePlaceholder returned foreign bytes")
			}
		}
	}

	// Round trip: encoding the packet and decoding it again changes nothing.
	out, bins := parser.AppendEncode([]byte{'4'}, p)
	if out[0] != '4' {
		t.Fatalf("AppendEncode overwrote dst: %q", out)
	}
	var d parser.Decoder
	q, err := d.Add(out[1:], false)
	for _, b := range bins {
		if err != nil || q != nil {
			t.Fatalf("re-decoding %q: %v, %v before attachments", out[1:], q, err)
		}
		q, err = d.Add(b, true)
	}
	if err != nil || q == nil {
		t.Fatalf("re-decoding %q: %v, %v", out[1:], q, err)
	}
	if !equalPackets(p, q) {
		t.Fatalf("round trip changed %+v into %+v (via %q)", p, q, out)
	}
}

// FuzzSplitArray checks SplitArray against encoding/json: whatever it accepts
// encoding/json accepts with the same elements, and it rejects valid arrays
// only when they are too deep.
func FuzzSplitArray(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		elems, err := parser.SplitArray(raw)
		var ref []json.RawMessage
		refErr := json.Unmarshal(raw, &ref)
		if err != nil {
			tooDeep := depth(raw) > parser.MaxDepth
			trimmed := bytes.TrimLeft(raw, " \t\r\n")
			isArray := len(trimmed) > 0 && trimmed[0] == '['
			if refErr == nil && isArray && utf8.Valid(raw) && !tooDeep {
				t.Fatalf("rejected valid array %q: %v", raw, err)
			}
			if errors.Is(err, parser.ErrTooDeep) && !tooDeep {
				t.Fatalf("ErrTooDeep for depth %d", depth(raw))
			}
			return
		}
		if refErr != nil {
			t.Fatalf("accepted %q, which encoding/json rejects: %v", raw, refErr)
		}
		if len(elems) != len(ref) {
			t.Fatalf("%d elements, encoding/json found %d", len(elems), len(ref))
		}
		for i := range elems {
			if !bytes.Equal(elems[i], ref[i]) {
				t.Fatalf("element %d = %q, encoding/json says %q", i, elems[i], ref[i])
			}
			if !bytes.Contains(raw, elems[i]) {
				t.Fatalf("element %q not from the input", elems[i])
			}
		}
	})
}

// FuzzEncodeDecodeRoundTrip builds packets from arbitrary parts: every packet
// that Validate accepts must decode back to itself, and EncodeArgs must build
// payloads that survive the trip with their name, arguments and attachments.
func FuzzEncodeDecodeRoundTrip(f *testing.F) {
	f.Fuzz(func(t *testing.T, typ uint8, nsp string, id uint64, hasID bool, data, att []byte, natt uint8) {
		p := parser.Packet{
			Type: parser.PacketType(typ % 8), Namespace: nsp, ID: id, HasID: hasID,
			Attachments: cut(att, int(natt%4)),
		}
		if len(data) > 0 {
			p.Data = data
		}
		out, bins := parser.AppendEncode([]byte{'4'}, &p)
		if p.Validate() == nil {
			want := p
			want.Type = normalType(p.Type, len(p.Attachments))
			if want.Namespace == "" {
				want.Namespace = "/"
			}
			if !want.HasID {
				want.ID = 0 // not written, so not read back
			}
			got := decodeAll(t, out[1:], bins)
			if !equalPackets(got, &want) {
				t.Fatalf("%+v came back as %+v (via %q)", want, got, out)
			}
		}

		// EncodeArgs: the name, the raw elements of data and the attachment.
		// Raw elements are inserted as-is, so those holding placeholders
		// that the one attachment cannot satisfy are left out.
		var args []any
		if elems, err := parser.SplitArray(data); err == nil {
			for _, e := range elems {
				wrapped := append(append([]byte{'['}, e...), ']')
				if (&parser.Packet{Type: parser.BinaryAck, Data: wrapped, Attachments: [][]byte{att}}).Validate() == nil {
					args = append(args, e)
				}
			}
		}
		args = append(args, att)
		payload, atts, err := parser.EncodeArgs(nsp, args)
		if err != nil {
			t.Fatalf("EncodeArgs: %v", err)
		}
		name := string([]rune(nsp)) // invalid UTF-8 becomes U+FFFD, as EncodeArgs writes it
		ev := &parser.Packet{Type: parser.Event, Namespace: "/", Data: payload, Attachments: atts}
		if nsp == "" {
			ev.Type = parser.Ack
		} else if parser.IsReservedEvent(name) {
			if ev.Validate() == nil {
				t.Fatalf("reserved name %q validates", name)
			}
			return
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("EncodeArgs payload %q invalid: %v", payload, err)
		}
		out, bins = parser.AppendEncode(nil, ev)
		got := decodeAll(t, out, bins)
		if nsp != "" {
			if n, err := got.EventName(); err != nil || n != name {
				t.Fatalf("EventName = %q, %v; want %q", n, err, name)
			}
		}
		gotArgs, err := got.Args()
		if err != nil || len(gotArgs) != len(args) {
			t.Fatalf("Args = %d, %v; want %d", len(gotArgs), err, len(args))
		}
		for i, a := range args[:len(args)-1] {
			if !bytes.Equal(gotArgs[i], a.(json.RawMessage)) {
				t.Fatalf("arg %d = %q, want %q", i, gotArgs[i], a)
			}
		}
		b, ok := parser.ResolvePlaceholder(gotArgs[len(gotArgs)-1], got.Attachments)
		if !ok || !bytes.Equal(b, att) {
			t.Fatalf("attachment = %q, %v; want %q", b, ok, att)
		}
	})
}

func decodeAll(t *testing.T, text []byte, bins [][]byte) *parser.Packet {
	t.Helper()
	var d parser.Decoder
	p, err := d.Add(text, false)
	for _, b := range bins {
		if err != nil || p != nil {
			t.Fatalf("decoding %q: %v, %v before attachments", text, p, err)
		}
		p, err = d.Add(b, true)
	}
	if err != nil || p == nil {
		t.Fatalf("decoding %q: %v, %v", text, p, err)
	}
	return p
}

// normalType is the type a packet has on the wire given its attachments.
func normalType(t parser.PacketType, n int) parser.PacketType {
	switch {
	case n > 0 && t == parser.Event:
		return parser.BinaryEvent
	case n > 0 && t == parser.Ack:
		return parser.BinaryAck
	case n == 0 && t == parser.BinaryEvent:
		return parser.Event
	case n == 0 && t == parser.BinaryAck:
		return parser.Ack
	}
	return t
}

// cut splits b into n pieces (n == 0 gives none).
func cut(b []byte, n int) [][]byte {
	if n == 0 {
		return nil
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = b[i*len(b)/n : (i+1)*len(b)/n]
	}
	return out
}

// depth is the nesting depth of JSON text, ignoring brackets in strings.
func depth(raw []byte) int {
	d, max, inStr := 0, 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case !inStr && (c == '[' || c == '{'):
			if d++; d > max {
				max = d
			}
		case !inStr && (c == ']' || c == '}'):
			d--
		}
	}
	return max
}

func containsSlice(list [][]byte, b []byte) bool {
	for _, x := range list {
		if len(x) == len(b) && (len(b) == 0 || &x[0] == &b[0]) {
			return true
		}
	}
	return false
}
