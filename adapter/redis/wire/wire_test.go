package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// mp builds MessagePack bytes the way the spec's captures are written: a
// string is a fixstr, an int one raw byte, a []byte raw bytes, and a hexStr
// raw bytes given in hex.
type hexStr string

func mp(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch x := p.(type) {
		case string:
			out = append(append(out, 0xa0|byte(len(x))), x...)
		case int:
			out = append(out, byte(x))
		case []byte:
			out = append(out, x...)
		case hexStr:
			b, err := hex.DecodeString(string(bytes.ReplaceAll([]byte(x), []byte(" "), nil)))
			if err != nil {
				panic(err)
			}
			out = append(out, b...)
		default:
			panic("mp: bad part")
		}
	}
	return out
}

// The captured bytes of shared/specs/cluster-wire.md, section 10.
var (
	// io.emit("ev", 1, "two", Buffer[1,2], new Date(0), 1.5, {a:undefined,b:null}, -3, 300)
	capturedBroadcast = mp(0x93, "cniMRM", 0x83, "type", 0x02, "data", 0x99, "ev", 0x01, "two",
		hexStr("c4 02 01 02"), hexStr("d6 ff 00 00 00 00"), hexStr("cb 3f f8 00 00 00 00 00 00"),
		0x81, "b", 0xc0, 0xfd, hexStr("cd 01 2c"),
		"nsp", "/", 0x83, "rooms", 0x90, "except", 0x90, "flags", 0x80)
	// io.to("room1").except("room2").volatile.emit("ev2")
	capturedRoomBroadcast = mp(0x93, "cniMRM", 0x83, "type", 0x02, "data", 0x91, "ev2", "nsp", "/",
		0x83, "rooms", 0x91, "room1", "except", 0x91, "room2", "flags", 0x81, "volatile", 0xc3)
	// io.timeout(1000).emit("ackev", cb)
	capturedAckRequest = mp(0x85, "uid", "cniMRM", "requestId", "wFrq5C", "type", 0x07,
		"packet", 0x83, "type", 0x02, "data", 0x91, "ackev", "nsp", "/",
		"opts", 0x83, "rooms", 0x90, "except", 0x90, "flags", 0x81, "timeout", hexStr("cd 03 e8"))
	capturedAck = mp(0x83, "type", 0x09, "requestId", "wFrq5C", "packet", hexStr("c4 02 09 08"))
	// emitter.to("room1").emit("fromEmitter", 1, Buffer[7])
	capturedEmitterBroadcast = mp(0x93, "emitter", 0x83, "type", 0x02, "data", 0x93, "fromEmitter", 0x01,
		hexStr("c4 01 07"), "nsp", "/", 0x83, "rooms", 0x91, "room1", "flags", 0x80, "except", 0x90)
	capturedEmitterCustom = mp(0x93, "emitter", 0x83, "type", 0x02, "data", 0x91, "x", "nsp", "/custom",
		0x83, "rooms", 0x90, "flags", 0x80, "except", 0x90)
)

func TestDecodeCapturedBroadcast(t *testing.T) {
	e, err := DecodeEnvelope(capturedBroadcast)
	if err != nil {
		t.Fatal(err)
	}
	want := `["ev",1,"two",{"_placeholder":true,"num":0},"1970-01-01T00:00:00.000Z",1.5,{"b":null},-3,300]`
	if e.UID != "cniMRM" || string(e.Packet.Data) != want || e.Packet.Nsp != "/" {
		t.Fatalf("got uid %q nsp %q data %s", e.UID, e.Packet.Nsp, e.Packet.Data)
	}
	if len(e.Packet.Attachments) != 1 || !bytes.Equal(e.Packet.Attachments[0], []byte{1, 2}) {
		t.Fatalf("attachments %v", e.Packet.Attachments)
	}
	if len(e.Opts.Rooms) != 0 || len(e.Opts.Except) != 0 || e.Opts.Flags != (Flags{}) {
		t.Fatalf("opts %+v", e.Opts)
	}
}

func TestEncodeCapturedBroadcast(t *testing.T) {
	// The same emit from Go, where the Date can only be its string: the
	// bytes are the captured ones with the Date's element changed.
	data := `["ev",1,"two",{"_placeholder":true,"num":0},"1970-01-01T00:00:00.000Z",1.5,{"b":null},-3,300]`
	got, err := AppendEnvelope(nil, &Envelope{UID: "cniMRM",
		Packet: Packet{Data: json.RawMessage(data), Attachments: [][]byte{{1, 2}}, Nsp: "/"}})
	if err != nil {
		t.Fatal(err)
	}
	date := hexStr("d6 ff 00 00 00 00")
	want := bytes.Replace(capturedBroadcast, mp(date), mp(hexStr("b8"), []byte("1970-01-01T00:00:00.000Z")), 1)
	if !bytes.Equal(got, want) {
		t.Fatalf("\ngot  % x\nwant % x", got, want)
	}
	// And what was decoded encodes back to the same bytes.
	e, _ := DecodeEnvelope(capturedBroadcast)
	again, err := AppendEnvelope(nil, e)
	if err != nil || !bytes.Equal(again, want) {
		t.Fatalf("round trip: %v\n% x", err, again)
	}
}

func TestCapturedRoomBroadcast(t *testing.T) {
	env := &Envelope{UID: "cniMRM", Packet: Packet{Data: json.RawMessage(`["ev2"]`), Nsp: "/"},
		Opts: Opts{Rooms: []string{"room1"}, Except: []string{"room2"}, Flags: Flags{Volatile: true}}}
	got, err := AppendEnvelope(nil, env)
	if err != nil || !bytes.Equal(got, capturedRoomBroadcast) {
		t.Fatalf("%v\ngot  % x\nwant % x", err, got, capturedRoomBroadcast)
	}
	e, err := DecodeEnvelope(capturedRoomBroadcast)
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Packet.Data) != `["ev2"]` || e.Opts.Rooms[0] != "room1" || e.Opts.Except[0] != "room2" || !e.Opts.Flags.Volatile {
		t.Fatalf("%+v", e)
	}
}

func TestCapturedEmitterBroadcasts(t *testing.T) {
	got, err := AppendEmitterEnvelope(nil, &Envelope{UID: EmitterUID,
		Packet: Packet{Data: json.RawMessage(`["fromEmitter",1,{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{7}}, Nsp: "/"},
		Opts:   Opts{Rooms: []string{"room1"}}})
	if err != nil || !bytes.Equal(got, capturedEmitterBroadcast) {
		t.Fatalf("%v\ngot  % x\nwant % x", err, got, capturedEmitterBroadcast)
	}
	got, err = AppendEmitterEnvelope(nil, &Envelope{UID: EmitterUID, Packet: Packet{Data: json.RawMessage(`["x"]`), Nsp: "/custom"}})
	if err != nil || !bytes.Equal(got, capturedEmitterCustom) {
		t.Fatalf("%v\ngot  % x\nwant % x", err, got, capturedEmitterCustom)
	}
	e, err := DecodeEnvelope(capturedEmitterBroadcast)
	if err != nil || e.UID != "emitter" || string(e.Packet.Data) != `["fromEmitter",1,{"_placeholder":true,"num":0}]` ||
		!bytes.Equal(e.Packet.Attachments[0], []byte{7}) || e.Opts.Rooms[0] != "room1" {
		t.Fatalf("%v %+v", err, e)
	}
	if c := NewChannels(DefaultKey, "/"); c.Room("room1") != "socket.io#/#room1#" {
		t.Fatal(c.Room("room1"))
	}
	if c := NewChannels(DefaultKey, "/custom"); c.Broadcast != "socket.io#/custom#" {
		t.Fatal(c.Broadcast)
	}
}

func TestChannels(t *testing.T) {
	c := NewChannels("socket.io", "/")
	if c.Broadcast != "socket.io#/#" || c.Request != "socket.io-request#/#" || c.Response != "socket.io-response#/#" ||
		c.SpecificResponse("cniMRM") != "socket.io-response#/#cniMRM#" || c.Pattern() != "socket.io#/#*" {
		t.Fatalf("%+v %s", c, c.Pattern())
	}
	if p := NewChannels("k", "/a*[b]").Pattern(); p != `k#/a\*\[b\]#*` {
		t.Fatal(p)
	}
	for ch, want := range map[string]string{"socket.io#/#": "", "socket.io#/#room1#": "room1", "socket.io#/#a#b#": "a#b"} {
		if room, ok := c.RoomOf(ch); !ok || room != want {
			t.Errorf("RoomOf(%q) = %q, %v", ch, room, ok)
		}
	}
	for _, ch := range []string{"socket.io#/admin#", "socket.io#/#room1", "other"} {
		if _, ok := c.RoomOf(ch); ok {
			t.Errorf("RoomOf(%q) matched", ch)
		}
	}
}

func TestCapturedJSONRequests(t *testing.T) {
	cases := []struct {
		want string
		q    Request
	}{
		{`{"uid":"cniMRM","type":6,"data":["hello","world"]}`,
			Request{UID: "cniMRM", Type: ServerSideEmit, Data: json.RawMessage(`["hello","world"]`)}},
		{`{"uid":"cniMRM","requestId":"RXl2FQ","type":5,"opts":{"rooms":[],"except":[]}}`,
			Request{UID: "cniMRM", RequestID: "RXl2FQ", Type: RemoteFetch, Opts: &Opts{}}},
		{`{"uid":"cniMRM","type":2,"opts":{"rooms":[],"except":[]},"rooms":["room3"]}`,
			Request{UID: "cniMRM", Type: RemoteJoin, Opts: &Opts{}, Rooms: []string{"room3"}}},
		{`{"uid":"cniMRM","type":3,"opts":{"rooms":["room1"],"except":[]},"rooms":["room3"]}`,
			Request{UID: "cniMRM", Type: RemoteLeave, Opts: &Opts{Rooms: []string{"room1"}}, Rooms: []string{"room3"}}},
		{`{"uid":"cniMRM","type":4,"opts":{"rooms":["nobody"],"except":[]},"close":true}`,
			Request{UID: "cniMRM", Type: RemoteDisconnect, Opts: &Opts{Rooms: []string{"nobody"}}, Close: true}},
		{`{"uid":"cniMRM","requestId":"BSajEG","type":1}`,
			Request{UID: "cniMRM", RequestID: "BSajEG", Type: AllRooms}},
		{`{"uid":"cniMRM","requestId":"2F80-c","type":6,"data":["ping"]}`,
			Request{UID: "cniMRM", RequestID: "2F80-c", Type: ServerSideEmit, Data: json.RawMessage(`["ping"]`)}},
		// The emitter's.
		{`{"uid":"emitter","type":6,"data":["hello","from-emitter"]}`,
			Request{UID: EmitterUID, Type: ServerSideEmit, Data: json.RawMessage(`["hello","from-emitter"]`)}},
		{`{"type":2,"opts":{"rooms":["room1"],"except":[]},"rooms":["r9"]}`,
			Request{Type: RemoteJoin, Opts: &Opts{Rooms: []string{"room1"}}, Rooms: []string{"r9"}}},
		// Legacy forms, still answered.
		{`{"uid":"u","requestId":"r","type":2,"sid":"s","room":"x"}`,
			Request{UID: "u", RequestID: "r", Type: RemoteJoin, SID: "s", Room: "x"}},
		{`{"uid":"u","requestId":"r","type":4,"sid":"s","close":false}`,
			Request{UID: "u", RequestID: "r", Type: RemoteDisconnect, SID: "s"}},
		{`{"uid":"u","requestId":"r","type":0,"rooms":["a"]}`,
			Request{UID: "u", RequestID: "r", Type: Sockets, Rooms: []string{"a"}}},
	}
	for _, c := range cases {
		got, err := AppendRequest(nil, &c.q)
		if err != nil || string(got) != c.want {
			t.Errorf("AppendRequest:\ngot  %s %v\nwant %s", got, err, c.want)
		}
		q, err := DecodeRequest([]byte(c.want))
		if err != nil {
			t.Errorf("DecodeRequest(%s): %v", c.want, err)
			continue
		}
		if again, _ := AppendRequest(nil, q); string(again) != c.want {
			t.Errorf("decode then encode:\ngot  %s\nwant %s", again, c.want)
		}
	}
}

func TestServerSideEmitBinaryAsBufferJSON(t *testing.T) {
	got, err := AppendRequest(nil, &Request{UID: "u", Type: ServerSideEmit,
		Data: json.RawMessage(`["bin",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]`), Attachments: [][]byte{{1, 2}, {}}})
	want := `{"uid":"u","type":6,"data":["bin",{"type":"Buffer","data":[1,2]},{"x":{"type":"Buffer","data":[]}}]}`
	if err != nil || string(got) != want {
		t.Fatalf("%v\ngot  %s\nwant %s", err, got, want)
	}
}

func TestCapturedAckRequestAndResponses(t *testing.T) {
	q := &Request{UID: "cniMRM", RequestID: "wFrq5C", Type: Broadcast,
		Packet: &Packet{Data: json.RawMessage(`["ackev"]`), Nsp: "/"}, Opts: &Opts{Flags: Flags{Timeout: 1000}}}
	got, err := AppendRequest(nil, q)
	if err != nil || !bytes.Equal(got, capturedAckRequest) {
		t.Fatalf("%v\ngot  % x\nwant % x", err, got, capturedAckRequest)
	}
	d, err := DecodeRequest(capturedAckRequest)
	if err != nil || d.Type != Broadcast || d.UID != "cniMRM" || d.RequestID != "wFrq5C" ||
		string(d.Packet.Data) != `["ackev"]` || d.Opts.Flags.Timeout != 1000 {
		t.Fatalf("%v %+v", err, d)
	}

	got, err = AppendResponse(nil, &Response{Type: BroadcastAck, RequestID: "wFrq5C",
		Packet: json.RawMessage(`{"_placeholder":true,"num":0}`), Attachments: [][]byte{{9, 8}}})
	if err != nil || !bytes.Equal(got, capturedAck) {
		t.Fatalf("%v\ngot  % x\nwant % x", err, got, capturedAck)
	}
	s, err := DecodeResponse(capturedAck)
	if err != nil || s.Type != BroadcastAck || s.RequestID != "wFrq5C" || string(s.Packet) != `{"_placeholder":true,"num":0}` ||
		!bytes.Equal(s.Attachments[0], []byte{9, 8}) {
		t.Fatalf("%v %+v", err, s)
	}
	// An ack without argument: notepack leaves out the undefined packet.
	got, _ = AppendResponse(nil, &Response{Type: BroadcastAck, RequestID: "x"})
	if want := mp(0x82, "type", 0x09, "requestId", "x"); !bytes.Equal(got, want) {
		t.Fatalf("% x", got)
	}

	for _, c := range []struct {
		want string
		s    Response
	}{
		{`{"type":8,"requestId":"wFrq5C","clientCount":1}`, Response{Type: BroadcastClientCount, RequestID: "wFrq5C", ClientCount: 1}},
		{`{"type":6,"requestId":"2F80-c","data":"pong-from-B"}`, Response{Type: ServerSideEmit, RequestID: "2F80-c", Data: json.RawMessage(`"pong-from-B"`)}},
		{`{"requestId":"BSajEG","rooms":["jN1PbUT18MN3A4O_AAAA","room1"]}`, Response{Type: NoType, RequestID: "BSajEG", Rooms: []string{"jN1PbUT18MN3A4O_AAAA", "room1"}}},
		{`{"requestId":"r","sockets":["a","b"]}`, Response{Type: NoType, RequestID: "r", Sockets: json.RawMessage(`["a","b"]`)}},
		{`{"requestId":"r"}`, Response{Type: NoType, RequestID: "r"}},
	} {
		got, err := AppendResponse(nil, &c.s)
		if err != nil || string(got) != c.want {
			t.Errorf("got %s %v, want %s", got, err, c.want)
		}
		s, err := DecodeResponse([]byte(c.want))
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := AppendResponse(nil, s); string(again) != c.want {
			t.Errorf("round trip %s, want %s", again, c.want)
		}
	}
}

func TestCapturedFetchResponse(t *testing.T) {
	raw := `{"requestId":"RXl2FQ","sockets":[{"id":"jN1PbUT18MN3A4O_AAAA","handshake":{"headers":{"host":"localhost:3000","accept":["a","b"]},` +
		`"time":"Sat Nov 28 2026 11:47:43 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1",` +
		`"xdomain":false,"secure":false,"issued":1795866463920,"url":"/socket.io/?EIO=4&transport=websocket",` +
		`"query":{"EIO":"4","transport":"websocket"},"auth":{}},"rooms":["jN1PbUT18MN3A4O_AAAA","room1"],"data":{"user":"u1"}}]}`
	s, err := DecodeResponse([]byte(raw))
	if err != nil || s.Type != NoType || s.RequestID != "RXl2FQ" {
		t.Fatal(err, s)
	}
	socks, err := DecodeSockets(s.Sockets)
	if err != nil || len(socks) != 1 {
		t.Fatal(err, socks)
	}
	x := socks[0]
	if x.ID != "jN1PbUT18MN3A4O_AAAA" || len(x.Rooms) != 2 || x.Rooms[1] != "room1" || x.Data["user"] != "u1" ||
		x.Handshake.Issued != 1795866463920 || x.Handshake.Query["transport"] != "websocket" ||
		x.Handshake.Headers["accept"] != "a, b" || x.Handshake.Address != "127.0.0.1" || string(x.Handshake.Auth) != "{}" {
		t.Fatalf("%+v %+v", x, x.Handshake)
	}
	// What Go sends back has every part Node.js reads, even when missing here.
	enc, err := EncodeSockets(socks[:1])
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSockets(enc)
	if err != nil || back[0].Handshake.Headers["host"] != "localhost:3000" || back[0].Data["user"] != "u1" {
		t.Fatal(err, string(enc))
	}
	socks[0].Handshake, socks[0].Data, socks[0].Rooms = nil, nil, nil
	enc, _ = EncodeSockets(socks[:1])
	want := `[{"id":"jN1PbUT18MN3A4O_AAAA","handshake":{"headers":{},"time":"","address":"","xdomain":false,"secure":false,"issued":0,"url":"","query":{},"auth":{}},"rooms":[],"data":{}}]`
	if string(enc) != want {
		t.Fatalf("got  %s\nwant %s", enc, want)
	}
}

func TestRequestsFromOddPeers(t *testing.T) {
	// Numeric rooms (Node.js allows them) become their text; unknown keys
	// and flags are ignored; a missing type is refused.
	q, err := DecodeRequest([]byte(`{"uid":"u","type":2,"opts":{"rooms":[42,1.5],"except":["x"],"flags":{"weird":[1]}},"rooms":[7],"extra":{}}`))
	if err != nil || q.Opts.Rooms[0] != "42" || q.Opts.Rooms[1] != "1.5" || q.Rooms[0] != "7" {
		t.Fatal(err, q)
	}
	if _, err := DecodeRequest([]byte(`{"uid":"u"}`)); err == nil {
		t.Fatal("request without type accepted")
	}
	// A JSON SSE request keeps its data byte for byte.
	q, _ = DecodeRequest([]byte(`{"uid":"u","type":6,"data":["e", {"a" : 1}]}`))
	if string(q.Data) != `["e", {"a" : 1}]` || q.RequestID != "" {
		t.Fatal(string(q.Data))
	}
	// An envelope with numeric rooms and a packet without nsp (defaults to "/"),
	// of type 5 (old emitters), with flags.
	b := mp(0x93, "x", 0x82, "type", 0x05, "data", 0x91, "e",
		0x83, "rooms", 0x92, 0x2a, hexStr("cb 3f f8 00 00 00 00 00 00"), "except", 0xc0, "flags", 0x82, "compress", 0xc3, "timeout", 0x05)
	e, err := DecodeEnvelope(b)
	if err != nil || e.Packet.Nsp != "/" || e.Opts.Rooms[0] != "42" || e.Opts.Rooms[1] != "1.5" || e.Opts.Except != nil ||
		!e.Opts.Flags.Compress || e.Opts.Flags.Timeout != 5 {
		t.Fatal(err, e)
	}
	// Truncations and trailing bytes are errors, never panics.
	for i := range len(capturedBroadcast) {
		if _, err := DecodeEnvelope(capturedBroadcast[:i]); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
	if _, err := DecodeEnvelope(append(capturedBroadcast[:len(capturedBroadcast):len(capturedBroadcast)], 0xc0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	for i := range len(capturedAckRequest) {
		DecodeRequest(capturedAckRequest[:i])
		DecodeResponse(capturedAckRequest[:i])
	}
}
