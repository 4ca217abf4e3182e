package parser_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roomcast/roomcast/parser"
)

func TestSplitArray(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`[]`, nil},
		{` [ ] `, nil},
		{`[1]`, []string{`1`}},
		{`["a\"],[{","b"]`, []string{`"a\"],[{"`, `"b"`}},
		{`[ {"k":[1,{"x":"]"}]} , [[]] ,-1.5e+3,true,false,null, "\u00e9\\" ]`,
			[]string{`{"k":[1,{"x":"]"}]}`, `[[]]`, `-1.5e+3`, `true`, `false`, `null`, `"\u00e9\\"`}},
		{"[\"é😀\"]", []string{"\"é😀\""}},
	}
	for _, tc := range cases {
		got, err := parser.SplitArray([]byte(tc.in))
		if err != nil {
			t.Errorf("SplitArray(%q): %v", tc.in, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("SplitArray(%q) = %q, want %q", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tc.want[i] {
				t.Errorf("SplitArray(%q)[%d] = %q, want %q", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

func TestSplitArrayErrors(t *testing.T) {
	for _, in := range []string{
		``, ` `, `{}`, `"a"`, `1`, `[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `[1}`, `{"a":1]`,
		`[1]]`, `[1][2]`, `["a]`, `["\x"]`, `["\u12"]`, `[01]`, `[1.]`, `[1e]`, `[-]`, `[+1]`,
		`[.5]`, `[nul]`, `[True]`, `[{"a"}]`, `[{"a":}]`, `[{1:2}]`, "[\"\t\"]", "[\"\xc3\"]",
	} {
		if got, err := parser.SplitArray([]byte(in)); err == nil {
			t.Errorf("SplitArray(%q) = %q, want an error", in, got)
		}
	}
}

func TestNestingLimit(t *testing.T) {
	nest := func(n int, open, close string) []byte {
		return []byte(strings.Repeat(open, n) + strings.Repeat(close, n))
	}
	if _, err := parser.SplitArray(nest(parser.MaxDepth, "[", "]")); err != nil {
		t.Errorf("depth MaxDepth: %v", err)
	}
	for _, in := range [][]byte{
		nest(parser.MaxDepth+1, "[", "]"),
		nest(100000, "[", "]"),
		[]byte("[" + strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000) + "]"),
		nest(100000, "[", ""), // unterminated too
	} {
		if _, err := parser.SplitArray(in); !errors.Is(err, parser.ErrTooDeep) {
			t.Errorf("SplitArray(%.20q...) = %v, want ErrTooDeep", in, err)
		}
		if _, err := parser.Decode(append([]byte("2"), in...)); !errors.Is(err, parser.ErrTooDeep) {
			t.Errorf("Decode(2%.20q...) = %v, want ErrTooDeep", in, err)
		}
	}
	// encoding/json gives up too, at its own limit of 10000, without panicking.
	if json.Valid(nest(100000, "[", "]")) {
		t.Error("json.Valid accepted 100000 levels")
	}
}

func TestEventNameAndArgs(t *testing.T) {
	p, err := parser.Decode([]byte(`2["chat message",{"b":1,"a":2}, "x" ,[1]]`))
	if err != nil {
		t.Fatal(err)
	}
	name, err := p.EventName()
	if err != nil || name != "chat message" {
		t.Errorf("EventName = %q, %v", name, err)
	}
	args, err := p.Args()
	if err != nil || len(args) != 3 || string(args[0]) != `{"b":1,"a":2}` || string(args[1]) != `"x"` || string(args[2]) != `[1]` {
		t.Errorf("Args = %q, %v", args, err)
	}

	p = &parser.Packet{Type: parser.Event, Data: raw(`["caf\u00e9\n"]`)}
	if name, err := p.EventName(); err != nil || name != "café\n" {
		t.Errorf("escaped EventName = %q, %v", name, err)
	}
	if args, err := p.Args(); err != nil || len(args) != 0 {
		t.Errorf("Args of name-only event = %q, %v", args, err)
	}

	ack := &parser.Packet{Type: parser.Ack, ID: 1, HasID: true, Data: raw(`["ok",2]`)}
	if args, err := ack.Args(); err != nil || len(args) != 2 || string(args[0]) != `"ok"` {
		t.Errorf("ack Args = %q, %v", args, err)
	}

	for _, data := range []string{``, `{}`, `[]`, `[1,"a"]`, `[null]`, `"a"`} {
		p := &parser.Packet{Type: parser.Event, Data: raw(data)}
		if name, err := p.EventName(); err == nil {
			t.Errorf("EventName(%q) = %q, want an error", data, name)
		}
	}
	if _, err := (&parser.Packet{Type: parser.Connect, Data: raw(`{}`)}).Args(); err == nil {
		t.Error("Args of CONNECT: want an error")
	}
}

func TestEncodeArgs(t *testing.T) {
	type point struct {
		X, Y int
		B    []byte
	}
	data, atts, err := parser.EncodeArgs("upload", []any{
		[]byte{1, 2},
		"a\"b\\c\n<>&\x01",
		map[string]any{"z": []byte{3}, "a": []any{[]byte{4}, nil, true, 2.5, 7}},
		json.RawMessage(`{"keep" : 1.50}`),
		point{1, 2, []byte{5}},
		int64(-3),
		float64(1e6),
		json.RawMessage(nil),
		[]byte(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `["upload",{"_placeholder":true,"num":0},"a\"b\\c\n<>&\u0001",` +
		`{"a":[{"_placeholder":true,"num":1},null,true,2.5,7],"z":{"_placeholder":true,"num":2}},` +
		`{"keep" : 1.50},{"X":1,"Y":2,"B":"BQ=="},-3,1000000,null,{"_placeholder":true,"num":3}]`
	if string(data) != want {
		t.Errorf("data =\n%s\nwant\n%s", data, want)
	}
	if len(atts) != 4 || atts[0][1] != 2 || atts[1][0] != 4 || atts[2][0] != 3 || atts[3] == nil || len(atts[3]) != 0 {
		t.Errorf("attachments = %v", atts)
	}
	if !json.Valid(data) {
		t.Error("EncodeArgs produced invalid JSON")
	}

	// The result is a valid packet payload: encode, decode, read it back.
	text, bins := parser.AppendEncode(nil, &parser.Packet{Type: parser.Event, Data: data, Attachments: atts})
	p := feed(t, &parser.Decoder{}, string(text), bins)
	args, _ := p.Args()
	if b, ok := parser.ResolvePlaceholder(args[0], p.Attachments); !ok || string(b) != "\x01\x02" {
		t.Errorf("ResolvePlaceholder(%s) = %v, %v", args[0], b, ok)
	}

	if data, atts, err := parser.EncodeArgs("", []any{"ok"}); err != nil || string(data) != `["ok"]` || atts != nil {
		t.Errorf("ack args = %s, %v, %v", data, atts, err)
	}
	if data, _, err := parser.EncodeArgs("", nil); err != nil || string(data) != `[]` {
		t.Errorf("no args = %s, %v", data, err)
	}
	if data, _, err := parser.EncodeArgs("bad\xffname", nil); err != nil || string(data) != `["bad\ufffdname"]` {
		t.Errorf("invalid UTF-8 name = %s, %v", data, err)
	}
}

func TestEncodeArgsErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	loop := map[string]any{}
	loop["self"] = loop
	for _, args := range [][]any{
		{cyclic},
		{loop},
		{json.RawMessage(`{"a":`)},
		{make(chan int)},
		{float64(0) / zero()},
	} {
		if _, _, err := parser.EncodeArgs("e", args); err == nil {
			t.Errorf("EncodeArgs(%T): want an error", args[0])
		}
	}
}

func zero() float64 { return 0 }

func TestResolvePlaceholder(t *testing.T) {
	atts := [][]byte{[]byte("zero"), []byte("one")}
	for _, in := range []string{
		`{"_placeholder":true,"num":1}`,
		` { "num" : 1 , "_placeholder" : true } `,
		`{"\u005fplaceholder":true,"num":1}`,
		`{"_placeholder":false,"num":0,"_placeholder":true,"num":1}`,
	} {
		if b, ok := parser.ResolvePlaceholder(raw(in), atts); !ok || string(b) != "one" {
			t.Errorf("ResolvePlaceholder(%s) = %q, %v", in, b, ok)
		}
	}
	for _, in := range []string{
		``, `null`, `[]`, `"x"`, `{}`,
		`{"_placeholder":true,"num":2}`,
		`{"_placeholder":true,"num":-1}`,
		`{"_placeholder":true,"num":1.0}`,
		`{"_placeholder":true}`,
		`{"_placeholder":"true","num":0}`,
		`{"_placeholder":true,"num":0,"_placeholder":false}`,
		`{"x":{"_placeholder":true,"num":0}}`,
		`{"_placeholder":true,"num":0`,
	} {
		if b, ok := parser.ResolvePlaceholder(raw(in), atts); ok {
			t.Errorf("ResolvePlaceholder(%s) = %q, want false", in, b)
		}
	}
}

func TestIsReservedEvent(t *testing.T) {
	if !parser.IsReservedEvent("disconnecting") || parser.IsReservedEvent("message") {
		t.Error("IsReservedEvent is wrong")
	}
}
