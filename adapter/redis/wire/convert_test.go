package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestNumbersAsNotepack(t *testing.T) {
	for _, c := range []struct {
		json string
		want []byte
	}{
		{`1`, mp(0x01)}, {`-3`, mp(0xfd)}, {`300`, mp(hexStr("cd 01 2c"))}, {`1000`, mp(hexStr("cd 03 e8"))},
		{`1.5`, mp(hexStr("cb 3f f8 00 00 00 00 00 00"))},
		{`0`, mp(0x00)}, {`-0`, mp(0x00)}, {`-0.0`, mp(0x00)}, {`127`, mp(0x7f)}, {`128`, mp(hexStr("cc 80"))},
		{`255`, mp(hexStr("cc ff"))}, {`65536`, mp(hexStr("ce 00 01 00 00"))},
		{`4294967296`, mp(hexStr("cf 00 00 00 01 00 00 00 00"))},
		{`-32`, mp(0xe0)}, {`-33`, mp(hexStr("d0 df"))}, {`-129`, mp(hexStr("d1 ff 7f"))},
		{`-32769`, mp(hexStr("d2 ff ff 7f ff"))}, {`-2147483649`, mp(hexStr("d3 ff ff ff ff 7f ff ff ff"))},
		// JavaScript numbers: 1e3 and 2.0 are integers, 1e400 is Infinity.
		{`1e3`, mp(hexStr("cd 03 e8"))}, {`2.0`, mp(0x02)},
		{`1e400`, mp(hexStr("cb 7f f0 00 00 00 00 00 00"))},
		// Integers beyond 2^53 written without exponent stay exact.
		{`18446744073709551615`, mp(hexStr("cf ff ff ff ff ff ff ff ff"))},
		{`-9223372036854775808`, mp(hexStr("d3 80 00 00 00 00 00 00 00"))},
	} {
		got, err := AppendMsgpack(nil, json.RawMessage(c.json), nil)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: got % x %v, want % x", c.json, got, err, c.want)
		}
	}
}

func TestStringsAndContainers(t *testing.T) {
	long := strings.Repeat("x", 40)
	huge := strings.Repeat("y", 70000)
	for _, c := range []struct {
		json string
		want []byte
	}{
		{`"a\"b\\c\u00e9\ud83d\ude00"`, append([]byte{0xa0 | 11}, "a\"b\\cé😀"...)},
		{`"` + long + `"`, append([]byte{0xd9, 40}, long...)},
		{`"` + huge + `"`, append([]byte{0xdb, 0, 1, 0x11, 0x70}, huge...)},
		{` [ true , false , null , { } , [ ] ] `, mp(0x95, 0xc3, 0xc2, 0xc0, 0x80, 0x90)},
		{`[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]`, mp(0xdc, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)},
		{`{"a":{"b":[{}]}}`, mp(0x81, "a", 0x81, "b", 0x91, 0x80)},
	} {
		got, err := AppendMsgpack(nil, json.RawMessage(c.json), nil)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%.40s: got % .40x %v, want % .40x", c.json, got, err, c.want)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	atts := [][]byte{{1, 2}, bytes.Repeat([]byte{9}, 300)}
	got, err := AppendMsgpack(nil, json.RawMessage(
		`[{"num":1,"_placeholder":true},{"x":[{"_placeholder":true,"num":0}]},{"_placeholder":true,"num":2},{"_placeholder":false,"num":0}]`), atts)
	if err != nil {
		t.Fatal(err)
	}
	want := mp(0x94, hexStr("c5 01 2c"), atts[1], 0x81, "x", 0x91, hexStr("c4 02 01 02"),
		0x82, "_placeholder", 0xc3, "num", 0x02, // out of range: an ordinary object
		0x82, "_placeholder", 0xc2, "num", 0x00)
	if !bytes.Equal(got, want) {
		t.Fatalf("\ngot  % x\nwant % x", got, want)
	}
	// And back: placeholders are numbered in order of appearance.
	js, back, err := ToJSON(got)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `[{"_placeholder":true,"num":0},{"x":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":2},{"_placeholder":false,"num":0}]`
	if string(js) != wantJSON || !reflect.DeepEqual(back, [][]byte{atts[1], atts[0]}) {
		t.Fatalf("%s %v", js, back)
	}
}

func TestToJSONValues(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{mp(0x93, 0xc0, 0xc2, 0xc3), `[null,false,true]`},
		{mp(hexStr("cb 3f f8 00 00 00 00 00 00")), `1.5`},
		{mp(hexStr("ca 3f c0 00 00")), `1.5`},                  // float32
		{mp(hexStr("cb 7f f8 00 00 00 00 00 01")), `null`},     // NaN
		{mp(hexStr("cb ff f0 00 00 00 00 00 00")), `null`},     // -Infinity
		{mp(hexStr("cb 80 00 00 00 00 00 00 00")), `0`},        // -0
		{mp(hexStr("cb 44 4b 1a e4 d6 e2 ef 50")), `1e+21`},    // 1e21
		{mp(hexStr("cb 3e b0 c6 f7 a0 b5 ed 8d")), `0.000001`}, // 1e-6
		{mp(hexStr("cb 3e 7a d7 f2 9a bc af 48")), `1e-7`},     // 1e-7
		{mp(hexStr("cb 43 3f ff ff ff ff ff ff")), `9007199254740991`},
		{mp(hexStr("cf ff ff ff ff ff ff ff ff")), `18446744073709551615`},
		{mp(hexStr("d3 80 00 00 00 00 00 00 00")), `-9223372036854775808`},
		{mp(hexStr("d0 80")), `-128`},
		{mp("a\"\\\n\x01\x7f"), `"a\"\\\n\u0001` + "\x7f" + `"`},
		{mp(hexStr("a3 61 ff 62")), `"a` + "\uFFFD" + `b"`}, // invalid UTF-8
		{mp("<&>\u2028"), `"<&>` + "\u2028" + `"`},          // not HTML-escaped
		// undefined (notepack's legacy d4 00 00): null in arrays, dropped in maps.
		{mp(0x92, hexStr("d4 00 00"), 0x01), `[null,1]`},
		{mp(0x83, "a", hexStr("d4 00 00"), "b", 0xc0, "c", hexStr("d4 00 00")), `{"b":null}`},
		{mp(0x81, "a", hexStr("d4 00 00")), `{}`},
		// Dates, as Date.prototype.toJSON writes them.
		{mp(hexStr("d6 ff 00 00 00 00")), `"1970-01-01T00:00:00.000Z"`},
		{mp(hexStr("d6 ff 65 53 f1 00")), `"2023-11-14T22:13:20.000Z"`},
		// timestamp 64: 1.5 s = ns 500000000 << 34 | 1
		{mp(hexStr("d7 ff 77 35 94 00 00 00 00 01")), `"1970-01-01T00:00:01.500Z"`},
		// timestamp 96: -1 s + 1 ms
		{mp(hexStr("c7 0c ff 00 0f 42 40 ff ff ff ff ff ff ff ff")), `"1969-12-31T23:59:59.001Z"`},
		// far years
		{mp(hexStr("c7 0c ff 00 00 00 00 00 00 00 3a ff f4 41 80")), `"+010000-01-01T00:00:00.000Z"`},
		// legacy Date (d7 00, int64 ms)
		{mp(hexStr("d7 00 00 00 00 00 00 00 03 e8")), `"1970-01-01T00:00:01.000Z"`},
		// legacy ArrayBuffer (ext 0) is binary; other extensions are [type, Buffer].
		{mp(hexStr("c7 02 00 05 06")), `{"_placeholder":true,"num":0}`},
		{mp(hexStr("d5 07 01 02")), `[7,{"_placeholder":true,"num":0}]`},
		// keys that are not strings become the JavaScript property name.
		{mp(0x83, 0x01, 0x01, hexStr("cb 3f f8 00 00 00 00 00 00"), 0x02, 0xc0, 0x03), `{"1":1,"1.5":2,"null":3}`},
	} {
		got, _, err := ToJSON(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("% x: got %s %v, want %s", c.in, got, err, c.want)
		}
	}
}

func TestBuffersAsNodeJSON(t *testing.T) {
	got, err := ToJSONBuffers(mp(0x92, hexStr("c4 03 00 7f ff"), hexStr("c4 00")))
	if err != nil || string(got) != `[{"type":"Buffer","data":[0,127,255]},{"type":"Buffer","data":[]}]` {
		t.Fatal(string(got), err)
	}
	js, err := JSONWithBuffers(json.RawMessage(`["x"]`), nil)
	if err != nil || string(js) != `["x"]` {
		t.Fatal(string(js), err)
	}
}

func TestMalformed(t *testing.T) {
	for _, j := range []string{``, `[`, `{"a"}`, `{"a":}`, `[1,]`, `01x`, `"abc`, `tru`, `1.`, `-`, `{"a":1`, `[1] 2`, "\"\x01\"", `{1:2}`} {
		if _, err := AppendMsgpack(nil, json.RawMessage(j), nil); err == nil {
			t.Errorf("%q accepted", j)
		}
	}
	deep := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	if _, err := AppendMsgpack(nil, json.RawMessage(deep), nil); err == nil {
		t.Error("too deep accepted")
	}
	for _, b := range [][]byte{{}, {0xc1}, {0x92, 0x01}, {0xdb, 0xff, 0xff, 0xff, 0xff}, {0xdd, 0xff, 0xff, 0xff, 0xff}, {0x01, 0x02}, {0xc7}} {
		if _, _, err := ToJSON(b); err == nil {
			t.Errorf("% x accepted", b)
		}
	}
	deepMP := append(bytes.Repeat([]byte{0x91}, maxDepth+2), 0xc0)
	if _, _, err := ToJSON(deepMP); err == nil {
		t.Error("too deep accepted")
	}
}

// Another MessagePack implementation reads what AppendMsgpack writes as the
// values of the JSON.
func TestCrossCheckWithVmihailenco(t *testing.T) {
	src := `{"s":"héllo","n":[0,-1,127,-33,300,70000,-70000,4294967296,1.25,-2.5e-9],"b":[true,false,null],"o":{"k":[{}]}}`
	b, err := AppendMsgpack(nil, json.RawMessage(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := msgpack.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(src), &want)
	if norm(got) != norm(want) {
		t.Fatalf("\ngot  %s\nwant %s", norm(got), norm(want))
	}
	// And what it writes, ToJSON reads.
	enc, _ := msgpack.Marshal(map[string]any{"a": []any{1, "x", 2.5, nil, true, []byte{1}}})
	js, atts, err := ToJSON(enc)
	if err != nil || string(js) != `{"a":[1,"x",2.5,null,true,{"_placeholder":true,"num":0}]}` || len(atts) != 1 {
		t.Fatal(string(js), err)
	}
}

func norm(v any) string {
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32:
			f := reflect.ValueOf(x).Convert(reflect.TypeOf(float64(0))).Float()
			return f
		case float64:
			if math.Trunc(x) == x {
				return x
			}
		}
		return v
	}
	b, _ := json.Marshal(walk(v))
	return string(b)
}

func FuzzToJSON(f *testing.F) {
	for _, s := range [][]byte{capturedBroadcast, capturedAckRequest, capturedAck, capturedEmitterBroadcast} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		js, atts, err := ToJSON(b)
		if err != nil {
			return
		}
		if !json.Valid(js) {
			t.Fatalf("invalid JSON %s", js)
		}
		// What ToJSON gives converts back, and stays the same the second time.
		b2, err := AppendMsgpack(nil, js, atts)
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		js2, _, err := ToJSON(b2)
		if err != nil || !bytes.Equal(js, js2) {
			t.Fatalf("%s != %s (%v)", js, js2, err)
		}
		DecodeEnvelope(b)
		DecodeRequest(b)
		DecodeResponse(b)
	})
}

func FuzzAppendMsgpack(f *testing.F) {
	f.Add([]byte(`["ev",1,"two",{"_placeholder":true,"num":0},1.5,{"b":null},-3,300]`))
	f.Fuzz(func(t *testing.T, j []byte) {
		b, err := AppendMsgpack(nil, j, [][]byte{{1}})
		if err != nil {
			return
		}
		if !json.Valid(j) {
			t.Fatalf("invalid JSON accepted: %q", j)
		}
		if _, _, err := ToJSON(b); err != nil {
			t.Fatalf("%q: %v", j, err)
		}
	})
}
