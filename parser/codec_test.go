package parser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roomcast/roomcast/parser"
)

// placeholder0 and placeholder1 are how attachments 0 and 1 appear in Data.
const (
	placeholder0 = `{"_placeholder":true,"num":0}`
	placeholder1 = `{"_placeholder":true,"num":1}`
)

// wireCases are packets and their text form, from the examples of the
// socket.io-protocol README and the reference parser's tests. Each one must
// encode to exactly text and decode from it back to the packet.
var wireCases = []struct {
	name string
	p    parser.Packet
	text string
}{
	{"connect main", parser.Packet{Type: parser.Connect, Namespace: "/"}, `0`},
	{"connect with sid", parser.Packet{Type: parser.Connect, Namespace: "/", Data: raw(`{"sid":"wZX3oN0bSVIhsaknAAAI"}`)}, `0{"sid":"wZX3oN0bSVIhsaknAAAI"}`},
	{"connect admin", parser.Packet{Type: parser.Connect, Namespace: "/admin"}, `0/admin,`},
	{"connect admin auth", parser.Packet{Type: parser.Connect, Namespace: "/admin", Data: raw(`{"token":"123"}`)}, `0/admin,{"token":"123"}`},
	{"connect error object", parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: raw(`{"message":"Not authorized"}`)}, `4{"message":"Not authorized"}`},
	{"connect error string", parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: raw(`"Unauthorized"`)}, `4"Unauthorized"`},
	{"event", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["foo"]`)}, `2["foo"]`},
	{"event hello", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["hello",1]`)}, `2["hello",1]`},
	{"event admin", parser.Packet{Type: parser.Event, Namespace: "/admin", Data: raw(`["bar"]`)}, `2/admin,["bar"]`},
	{"event numeric name", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`[1,"a",{}]`)}, `2[1,"a",{}]`},
	{"event with id", parser.Packet{Type: parser.Event, Namespace: "/", ID: 12, HasID: true, Data: raw(`["foo"]`)}, `212["foo"]`},
	{"event admin with id", parser.Packet{Type: parser.Event, Namespace: "/admin", ID: 13, HasID: true, Data: raw(`["foo"]`)}, `2/admin,13["foo"]`},
	{"ack empty", parser.Packet{Type: parser.Ack, Namespace: "/", ID: 12, HasID: true, Data: raw(`[]`)}, `312[]`},
	{"ack admin", parser.Packet{Type: parser.Ack, Namespace: "/admin", ID: 13, HasID: true, Data: raw(`["bar"]`)}, `3/admin,13["bar"]`},
	{"ack max id", parser.Packet{Type: parser.Ack, Namespace: "/", ID: 1<<53 - 1, HasID: true, Data: raw(`[]`)}, `39007199254740991[]`},
	{"disconnect main", parser.Packet{Type: parser.Disconnect, Namespace: "/"}, `1`},
	{"disconnect admin", parser.Packet{Type: parser.Disconnect, Namespace: "/admin"}, `1/admin,`},
	{"binary event", parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["baz",` + placeholder0 + `]`), Attachments: [][]byte{{1, 2, 3, 4}}}, `51-["baz",` + placeholder0 + `]`},
	{"binary event hello", parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["hello",` + placeholder0 + `]`), Attachments: [][]byte{{1}}}, `51-["hello",` + placeholder0 + `]`},
	{"binary event admin two", parser.Packet{Type: parser.BinaryEvent, Namespace: "/admin", Data: raw(`["baz",` + placeholder0 + `,` + placeholder1 + `]`), Attachments: [][]byte{{1, 2}, {3, 4}}}, `52-/admin,["baz",` + placeholder0 + `,` + placeholder1 + `]`},
	{"binary event with id", parser.Packet{Type: parser.BinaryEvent, Namespace: "/", ID: 14, HasID: true, Data: raw(`["foo",` + placeholder0 + `]`), Attachments: [][]byte{{1, 2, 3, 4}}}, `51-14["foo",` + placeholder0 + `]`},
	{"binary ack", parser.Packet{Type: parser.BinaryAck, Namespace: "/", ID: 15, HasID: true, Data: raw(`["bar",` + placeholder0 + `]`), Attachments: [][]byte{{1, 2, 3, 4}}}, `61-15["bar",` + placeholder0 + `]`},
	{"pass-through JSON", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["m",{"b":1,"a":2},1.50,"\u00e9"]`)}, `2["m",{"b":1,"a":2},1.50,"\u00e9"]`},
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestEncodeWireCases(t *testing.T) {
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			got, atts := parser.AppendEncode(nil, &tc.p)
			if string(got) != tc.text {
				t.Errorf("AppendEncode = %q, want %q", got, tc.text)
			}
			if !equalAttachments(atts, tc.p.Attachments) {
				t.Errorf("attachments = %v, want %v", atts, tc.p.Attachments)
			}
			if err := tc.p.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestDecodeWireCases(t *testing.T) {
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			got := feed(t, &parser.Decoder{}, tc.text, tc.p.Attachments)
			if !equalPackets(got, &tc.p) {
				t.Errorf("decoded %+v, want %+v", got, &tc.p)
			}
		})
	}
}

func TestEncodeAppendsToDst(t *testing.T) {
	p := &parser.Packet{Type: parser.Event, Namespace: "/chat", ID: 7, HasID: true, Data: raw(`["hi"]`)}
	got, _ := parser.AppendEncode([]byte{'4'}, p)
	if string(got) != `42/chat,7["hi"]` {
		t.Errorf("got %q", got)
	}
}

func TestEncodeTypeFromAttachments(t *testing.T) {
	att := [][]byte{{9}}
	cases := []struct {
		p    parser.Packet
		text string
		atts int
	}{
		{parser.Packet{Type: parser.Event, Data: raw(`["x",` + placeholder0 + `]`), Attachments: att}, `51-["x",` + placeholder0 + `]`, 1},
		{parser.Packet{Type: parser.Ack, ID: 3, HasID: true, Data: raw(`[` + placeholder0 + `]`), Attachments: att}, `61-3[` + placeholder0 + `]`, 1},
		{parser.Packet{Type: parser.BinaryEvent, Data: raw(`["x"]`)}, `2["x"]`, 0},
		{parser.Packet{Type: parser.BinaryAck, ID: 1, HasID: true, Data: raw(`[]`)}, `31[]`, 0},
		{parser.Packet{Type: parser.Event, Namespace: "", Data: raw(`["x"]`)}, `2["x"]`, 0},
	}
	for _, tc := range cases {
		got, atts := parser.AppendEncode(nil, &tc.p)
		if string(got) != tc.text || len(atts) != tc.atts {
			t.Errorf("AppendEncode(%+v) = %q, %d attachments; want %q, %d", tc.p, got, len(atts), tc.text, tc.atts)
		}
	}
}

// TestDecodeKeepsData checks that payloads are handed on byte for byte: key
// order, number spelling and escapes are the client's.
func TestDecodeKeepsData(t *testing.T) {
	for _, text := range []string{
		`2["m",{"b":1,"a":2},1.50,"\u00e9"]`,
		`2[ "spaced" , 1e3 , -0.0 , "\"q\"" ]`,
		`3/x,5[{"z":null,"a":[true,false]}]`,
		`0{"token":"\ud83d\ude00"}`,
	} {
		p, err := parser.Decode([]byte(text))
		if err != nil {
			t.Fatalf("Decode(%q): %v", text, err)
		}
		if !strings.HasSuffix(text, string(p.Data)) || len(p.Data) == 0 {
			t.Errorf("Decode(%q).Data = %q, not the tail of the input", text, p.Data)
		}
		again, _ := parser.AppendEncode(nil, p)
		if string(again) != text {
			t.Errorf("re-encoded %q as %q", text, again)
		}
	}
}

func TestDecodeLenientForms(t *testing.T) {
	// Forms the reference decoder accepts though its encoder never writes them.
	cases := []struct {
		text string
		want parser.Packet
	}{
		{`1/admin`, parser.Packet{Type: parser.Disconnect, Namespace: "/admin"}},
		{`2/,["a"]`, parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a"]`)}},
		{`2007["a"]`, parser.Packet{Type: parser.Event, Namespace: "/", ID: 7, HasID: true, Data: raw(`["a"]`)}},
		{`501-["a",` + placeholder0 + `]`, parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",` + placeholder0 + `]`), Attachments: [][]byte{{}}}},
		{`51-["no placeholder"]`, parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["no placeholder"]`), Attachments: [][]byte{{}}}},
		{`51-["a",{"num":0,"x":1,"_placeholder":true}]`, parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"num":0,"x":1,"_placeholder":true}]`), Attachments: [][]byte{{}}}},
		{`2["a",{"_placeholder":true,"num":99}]`, parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":99}]`)}},
		{`51-["a",{"_placeholder":false,"num":99}]`, parser.Packet{Type: parser.BinaryEvent, Namespace: "/", Data: raw(`["a",{"_placeholder":false,"num":99}]`), Attachments: [][]byte{{}}}},
		{"2 [\"a\"]\n", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(" [\"a\"]\n")}},
	}
	for _, tc := range cases {
		got := feed(t, &parser.Decoder{}, tc.text, tc.want.Attachments)
		if !equalPackets(got, &tc.want) {
			t.Errorf("%q decoded as %+v, want %+v", tc.text, got, &tc.want)
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	cases := []struct {
		text string
		want error
	}{
		{``, parser.ErrInvalidPacket},
		{`7["a"]`, parser.ErrInvalidPacket},
		{`999`, parser.ErrInvalidPacket},
		{`x`, parser.ErrInvalidPacket},
		{`2`, parser.ErrInvalidPacket},
		{`2/admin,`, parser.ErrInvalidPacket},
		{`2{}`, parser.ErrInvalidPacket},
		{`2"invalid"`, parser.ErrInvalidPacket},
		{`2[]`, parser.ErrInvalidPacket},
		{`2[true,"foo"]`, parser.ErrInvalidPacket},
		{`2[null,"bar"]`, parser.ErrInvalidPacket},
		{`2[{"toString":"foo"}]`, parser.ErrInvalidPacket},
		{`2["connect"]`, parser.ErrInvalidPacket},
		{`2["disconnect","123"]`, parser.ErrInvalidPacket},
		{`2["\u0063onnect"]`, parser.ErrInvalidPacket},
		{`2/admin,"invalid`, parser.ErrInvalidJSON},
		{`442["some","data"`, parser.ErrInvalidJSON},
		{`2["some","data"`, parser.ErrInvalidJSON},
		{`2["a",]`, parser.ErrInvalidJSON},
		{`2["a"]x`, parser.ErrInvalidJSON},
		{`2["a",01]`, parser.ErrInvalidJSON},
		{`2["a",tru]`, parser.ErrInvalidJSON},
		{"2[\"a\x01\"]", parser.ErrInvalidJSON},
		{"2[\"\xff\"]", parser.ErrInvalidJSON},
		{"2/\xff,[\"a\"]", parser.ErrInvalidPacket},
		{`2` + deep, parser.ErrTooDeep},
		{`0/admin,"invalid"`, parser.ErrInvalidPacket},
		{`0[]`, parser.ErrInvalidPacket},
		{`1/admin,{}`, parser.ErrInvalidPacket},
		{`1 `, parser.ErrInvalidPacket},
		{`4`, parser.ErrInvalidPacket},
		{`4[]`, parser.ErrInvalidPacket},
		{`3`, parser.ErrInvalidPacket},
		{`3{}`, parser.ErrInvalidPacket},
		{`3abc[]`, parser.ErrInvalidJSON},
		{`29007199254740992["a"]`, parser.ErrInvalidPacket},
		{`2999999999999999999999999999["a"]`, parser.ErrInvalidPacket},
		{`5`, parser.ErrInvalidPacket},
		{`51`, parser.ErrInvalidPacket},
		{`50-`, parser.ErrInvalidPacket},
		{`5a-`, parser.ErrInvalidPacket},
		{`51.23-`, parser.ErrInvalidPacket},
		{`5-["a"]`, parser.ErrInvalidPacket},
		{`511-["a"]`, parser.ErrTooManyAttachments},
		{`54294967297-["a"]`, parser.ErrTooManyAttachments},
		{`5999999999999999999999999999999-["a"]`, parser.ErrTooManyAttachments},
		{`51-["a",{"_placeholder":true,"num":1}]`, parser.ErrInvalidPacket},
		{`51-["a",{"_placeholder":true,"num":-1}]`, parser.ErrInvalidPacket},
		{`51-["a",{"_placeholder":true,"num":0.5}]`, parser.ErrInvalidPacket},
		{`51-["a",{"_placeholder":true,"num":"0"}]`, parser.ErrInvalidPacket},
		{`51-["a",{"_placeholder":true}]`, parser.ErrInvalidPacket},
		{`51-["a",{"\u005fplaceholder":true,"num":3}]`, parser.ErrInvalidPacket},
		{`51-["a",[{"x":{"_placeholder":true,"num":1}}]]`, parser.ErrInvalidPacket},
		{`51-{}`, parser.ErrInvalidPacket},
		{`61-[`, parser.ErrInvalidJSON},
	}
	for _, tc := range cases {
		var d parser.Decoder
		p, err := d.Add([]byte(tc.text), false)
		if p != nil || !errors.Is(err, tc.want) {
			t.Errorf("Add(%.40q) = %v, %v; want error %v", tc.text, p, err, tc.want)
		}
		var de *parser.DecodeError
		if !errors.As(err, &de) {
			t.Errorf("Add(%.40q): error %T is not a *DecodeError", tc.text, err)
		}
		// The decoder must be usable again after any error.
		if p, err := d.Add([]byte(`2["ok"]`), false); err != nil || p == nil {
			t.Errorf("after %.40q: Add = %v, %v", tc.text, p, err)
		}
	}
}

func TestDecoderMaxAttachments(t *testing.T) {
	d := parser.Decoder{MaxAttachments: 2}
	_, err := d.Add([]byte(`53-["hello",`+placeholder0+`,`+placeholder1+`,{"_placeholder":true,"num":2}]`), false)
	if !errors.Is(err, parser.ErrTooManyAttachments) {
		t.Fatalf("got %v, want ErrTooManyAttachments", err)
	}
	if p, err := d.Add([]byte(`52-["hello",`+placeholder0+`,`+placeholder1+`]`), false); p != nil || err != nil {
		t.Fatalf("got %v, %v; want to wait for attachments", p, err)
	}
}

func TestDecoderSequence(t *testing.T) {
	var d parser.Decoder
	if _, err := d.Add([]byte{1, 2}, true); !errors.Is(err, parser.ErrUnexpectedBinary) {
		t.Errorf("binary first: got %v, want ErrUnexpectedBinary", err)
	}

	// Text while attachments are awaited is an error, and resets the decoder.
	if p, err := d.Add([]byte(`52-["a",`+placeholder0+`,`+placeholder1+`]`), false); p != nil || err != nil {
		t.Fatalf("header: %v, %v", p, err)
	}
	if p, err := d.Add([]byte{1}, true); p != nil || err != nil {
		t.Fatalf("first attachment: %v, %v", p, err)
	}
	if _, err := d.Add([]byte(`2["b"]`), false); !errors.Is(err, parser.ErrExpectedBinary) {
		t.Fatalf("text while awaiting: got %v, want ErrExpectedBinary", err)
	}
	if _, err := d.Add([]byte{2}, true); !errors.Is(err, parser.ErrUnexpectedBinary) {
		t.Fatalf("after reset: got %v, want ErrUnexpectedBinary", err)
	}

	// A complete exchange, then Reset in the middle of another.
	d.Add([]byte(`61-4[`+placeholder0+`]`), false)
	p, err := d.Add([]byte("bytes"), true)
	if err != nil || p == nil || p.Type != parser.BinaryAck || p.ID != 4 || string(p.Attachments[0]) != "bytes" {
		t.Fatalf("binary ack: %+v, %v", p, err)
	}
	d.Add([]byte(`51-["a",`+placeholder0+`]`), false)
	d.Reset()
	if p, err := d.Add([]byte(`2["hello"]`), false); err != nil || p == nil {
		t.Fatalf("after Reset: %v, %v", p, err)
	}
}

func TestDecodeRejectsBinary(t *testing.T) {
	if _, err := parser.Decode([]byte(`51-["a",` + placeholder0 + `]`)); !errors.Is(err, parser.ErrAttachmentsPending) {
		t.Errorf("got %v, want ErrAttachmentsPending", err)
	}
}

func TestValidate(t *testing.T) {
	bad := []parser.Packet{
		{Type: 7},
		{Type: parser.Event, Namespace: "/a,b", Data: raw(`["x"]`)},
		{Type: parser.Event, Namespace: "admin", Data: raw(`["x"]`)},
		{Type: parser.Event, ID: 1 << 53, HasID: true, Data: raw(`["x"]`)},
		{Type: parser.Connect, Data: raw(`"invalid"`)},
		{Type: parser.Connect, Data: raw(`[]`)},
		{Type: parser.Disconnect, Data: raw(`{}`)},
		{Type: parser.Event, Data: raw(`{}`)},
		{Type: parser.Event, Data: raw(`[true]`)},
		{Type: parser.Disconnect, Attachments: [][]byte{{1}}},
		{Type: parser.Event, Data: raw(`["x",{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1}}},
	}
	for _, p := range bad {
		if err := p.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", p)
		}
	}
}

func TestPacketTypeString(t *testing.T) {
	if s := parser.BinaryAck.String(); s != "BINARY_ACK" {
		t.Errorf("got %q", s)
	}
	if s := parser.PacketType(9).String(); s != "PacketType(9)" {
		t.Errorf("got %q", s)
	}
}

// feed decodes text and its attachments through d, failing the test unless
// exactly the last message completes a packet.
func feed(t *testing.T, d *parser.Decoder, text string, atts [][]byte) *parser.Packet {
	t.Helper()
	p, err := d.Add([]byte(text), false)
	for _, a := range atts {
		if err != nil || p != nil {
			t.Fatalf("Add(%q) = %v, %v before its attachments", text, p, err)
		}
		p, err = d.Add(a, true)
	}
	if err != nil || p == nil {
		t.Fatalf("Add(%q) = %v, %v", text, p, err)
	}
	return p
}

func equalPackets(a, b *parser.Packet) bool {
	return a.Type == b.Type && a.Namespace == b.Namespace && a.ID == b.ID && a.HasID == b.HasID &&
		bytes.Equal(a.Data, b.Data) && (a.Data == nil) == (b.Data == nil) && equalAttachments(a.Attachments, b.Attachments)
}

func equalAttachments(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
