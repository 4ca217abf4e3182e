package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// The sharded adapter's messages captured in shared/specs/cluster-wire.md
// (section 10), and MessagePack ones made by notepack.io 3.0.1 from the
// objects the Node.js ClusterAdapter publishes.
const (
	capturedShardedRoom  = `{"type":3,"data":{"packet":{"type":2,"data":["ev2"]},"opts":{"rooms":["room1"],"except":["room2"],"flags":{"volatile":true}}},"uid":"3f96e9447dca1855","nsp":"/"}`
	capturedShardedSSE   = `{"type":9,"data":{"packet":["hello","world"]},"uid":"3f96e9447dca1855","nsp":"/"}`
	capturedShardedFetch = `{"type":7,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"requestId":"f518f193977154a9"},"uid":"3f96e9447dca1855","nsp":"/"}`
	capturedShardedJoin  = `{"type":4,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["room3"]},"uid":"3f96e9447dca1855","nsp":"/"}`
	capturedShardedAsk   = `{"type":3,"data":{"packet":{"type":2,"data":["ackev"]},"requestId":"0f8f0f8f0f8f0f8f","opts":{"rooms":[],"except":[],"flags":{"timeout":1000}}},"uid":"3f96e9447dca1855","nsp":"/"}`
	capturedShardedCount = `{"type":11,"data":{"requestId":"0f8f0f8f0f8f0f8f","clientCount":1},"uid":"1aa34c5ec09fdf7c","nsp":"/"}`
	capturedShardedPong  = `{"type":10,"data":{"requestId":"9223922392239223","packet":"pong-from-B"},"uid":"1aa34c5ec09fdf7c","nsp":"/"}`

	// {type:3, data:{packet:{type:2, data:["ev", Buffer[1,2], {n:1.5}]}, opts:{rooms:["r"], except:[], flags:{}}}, uid, nsp:"/"}
	notepackBroadcast = "84a47479706503a46461746182a67061636b657482a47479706502a46461746193a26576c402010281a16ecb3ff8000000000000a46f70747383a5726f6f6d7391a172a665786365707490a5666c61677380a3756964b033663936653934343764636131383535a36e7370a12f"
	// the same with acks: data {packet, requestId, opts{flags{timeout:1000}}}
	notepackAsk = "84a47479706503a46461746183a67061636b657482a47479706502a46461746192a26576c40101a9726571756573744964b030663866306638663066386630663866a46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f7574cd03e8a3756964b033663936653934343764636131383535a36e7370a12f"
	// {type:12, data:{requestId, packet:Buffer[9,8]}, ...}
	notepackAck = "84a4747970650ca46461746182a9726571756573744964b030663866306638663066386630663866a67061636b6574c4020908a3756964b031616133346335656330396664663763a36e7370a12f"
	// {type:9, data:{requestId, packet:["hello", Buffer[7]]}, ...}
	notepackSSE = "84a47479706509a46461746182a9726571756573744964b030663866306638663066386630663866a67061636b657492a568656c6c6fc40107a3756964b031616133346335656330396664663763a36e7370a12f"
	// {type:8, data:{requestId, sockets:[{id:"x", handshake:{}, rooms:["x"], data:{b:Buffer[5]}}]}, ...}
	notepackFetchResp = "84a47479706508a46461746182a9726571756573744964b030663866306638663066386630663866a7736f636b6574739184a26964a178a968616e647368616b6580a5726f6f6d7391a178a46461746181a162c40105a3756964b031616133346335656330396664663763a36e7370a12f"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Go writes the captured JSON messages byte for byte.
func TestEncodeCapturedShardedJSON(t *testing.T) {
	const a, b = "3f96e9447dca1855", "1aa34c5ec09fdf7c"
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{Message{Type: ClusterBroadcast, UID: a, Nsp: "/", Packet: &Packet{Data: json.RawMessage(`["ev2"]`)},
			Opts: &Opts{Rooms: []string{"room1"}, Except: []string{"room2"}, Flags: Flags{Volatile: true}}}, capturedShardedRoom},
		{Message{Type: ClusterServerSideEmit, UID: a, Nsp: "/", Data: json.RawMessage(`["hello","world"]`)}, capturedShardedSSE},
		{Message{Type: ClusterFetchSockets, UID: a, Nsp: "/", RequestID: "f518f193977154a9", Opts: &Opts{}}, capturedShardedFetch},
		{Message{Type: ClusterSocketsJoin, UID: a, Nsp: "/", Opts: &Opts{}, Rooms: []string{"room3"}}, capturedShardedJoin},
		{Message{Type: ClusterBroadcast, UID: a, Nsp: "/", RequestID: "0f8f0f8f0f8f0f8f", Packet: &Packet{Data: json.RawMessage(`["ackev"]`)},
			Opts: &Opts{Flags: Flags{Timeout: 1000}}}, capturedShardedAsk},
		{Message{Type: ClusterBroadcastClientCount, UID: b, Nsp: "/", RequestID: "0f8f0f8f0f8f0f8f", ClientCount: 1}, capturedShardedCount},
		{Message{Type: ClusterServerSideEmitResp, UID: b, Nsp: "/", RequestID: "9223922392239223", Data: json.RawMessage(`"pong-from-B"`)}, capturedShardedPong},
		{Message{Type: ClusterServerSideEmitResp, UID: "u", Nsp: "/", RequestID: "a"}, `{"type":10,"data":{"requestId":"a"},"uid":"u","nsp":"/"}`},
		{Message{Type: ClusterDisconnectSockets, UID: "u", Nsp: "/x", Opts: &Opts{Rooms: []string{"nobody"}}, Close: true},
			`{"type":6,"data":{"opts":{"rooms":["nobody"],"except":[],"flags":{}},"close":true},"uid":"u","nsp":"/x"}`},
		{Message{Type: ClusterHeartbeat, UID: "u", Nsp: "/"}, `{"type":2,"uid":"u","nsp":"/"}`},
	} {
		got, err := AppendMessage(nil, &tc.m)
		if err != nil || string(got) != tc.want {
			t.Errorf("%v\ngot  %s\nwant %s", err, got, tc.want)
		}
		// What is decoded encodes back the same.
		m, err := DecodeMessage([]byte(tc.want))
		if err != nil {
			t.Errorf("%s: %v", tc.want, err)
			continue
		}
		again, err := AppendMessage(nil, m)
		if err != nil || string(again) != tc.want {
			t.Errorf("round trip: %v\ngot  %s\nwant %s", err, again, tc.want)
		}
	}
}

func TestDecodeCapturedShardedJSON(t *testing.T) {
	m, err := DecodeMessage([]byte(capturedShardedRoom))
	if err != nil || m.Type != ClusterBroadcast || m.UID != "3f96e9447dca1855" || m.Nsp != "/" || string(m.Packet.Data) != `["ev2"]` ||
		m.Opts.Rooms[0] != "room1" || m.Opts.Except[0] != "room2" || !m.Opts.Flags.Volatile || m.RequestID != "" {
		t.Fatalf("%v %+v", err, m)
	}
	m, err = DecodeMessage([]byte(capturedShardedAsk))
	if err != nil || m.RequestID != "0f8f0f8f0f8f0f8f" || m.Opts.Flags.Timeout != 1000 {
		t.Fatalf("%v %+v", err, m)
	}
	m, err = DecodeMessage([]byte(capturedShardedCount))
	if err != nil || m.Type != ClusterBroadcastClientCount || m.ClientCount != 1 || !m.Type.IsResponse() {
		t.Fatalf("%v %+v", err, m)
	}
	m, err = DecodeMessage([]byte(`{"type":12,"data":{"requestId":"a","packet":null},"uid":"u","nsp":"/"}`))
	if err != nil || string(m.Data) != "null" {
		t.Fatalf("%v %+v", err, m)
	}
	m, err = DecodeMessage([]byte(`{"type":12,"data":{"requestId":"a"},"uid":"u","nsp":"/"}`))
	if err != nil || m.Data != nil {
		t.Fatalf("%v %+v", err, m)
	}
	// The unreleased sharded emitter leaves out nsp: decoded, for the adapter to drop.
	m, err = DecodeMessage([]byte(`{"type":3,"data":{"packet":{"type":2,"data":["x"]},"opts":{"rooms":[],"except":[]}},"uid":"emitter"}`))
	if err != nil || m.Nsp != "" || m.Opts.Flags != (Flags{}) {
		t.Fatalf("%v %+v", err, m)
	}
	for _, bad := range []string{
		`{"data":{}}`, `{"type":3,"data":{"opts":{}}}`, `{"type":3,"data":{"packet":{"type":2}}}`,
		`{"type":3,"data":{"packet":{"type":3,"data":[]},"opts":{}}}`, `{"type":9,"data":{"packet":"x"}}`,
		`{"type":4,"data":{"rooms":["a"]}}`, `{"type":`,
	} {
		if _, err := DecodeMessage([]byte(bad)); err == nil {
			t.Errorf("%s: decoded", bad)
		}
	}
}

// Go writes what notepack.io writes when there is binary, and reads it back.
func TestShardedMessagePack(t *testing.T) {
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{Message{Type: ClusterBroadcast, UID: "3f96e9447dca1855", Nsp: "/",
			Packet: &Packet{Data: json.RawMessage(`["ev",{"_placeholder":true,"num":0},{"n":1.5}]`), Attachments: [][]byte{{1, 2}}},
			Opts:   &Opts{Rooms: []string{"r"}}}, notepackBroadcast},
		{Message{Type: ClusterBroadcast, UID: "3f96e9447dca1855", Nsp: "/", RequestID: "0f8f0f8f0f8f0f8f",
			Packet: &Packet{Data: json.RawMessage(`["ev",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1}}},
			Opts:   &Opts{Flags: Flags{Timeout: 1000}}}, notepackAsk},
		{Message{Type: ClusterBroadcastAck, UID: "1aa34c5ec09fdf7c", Nsp: "/", RequestID: "0f8f0f8f0f8f0f8f",
			Data: json.RawMessage(`{"_placeholder":true,"num":0}`), Attachments: [][]byte{{9, 8}}}, notepackAck},
		{Message{Type: ClusterServerSideEmit, UID: "1aa34c5ec09fdf7c", Nsp: "/", RequestID: "0f8f0f8f0f8f0f8f",
			Data: json.RawMessage(`["hello",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{7}}}, notepackSSE},
	} {
		want := unhex(t, tc.want)
		got, err := AppendMessage(nil, &tc.m)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%v\ngot  % x\nwant % x", err, got, want)
		}
		m, err := DecodeMessage(want)
		if err != nil {
			t.Fatal(err)
		}
		again, err := AppendMessage(nil, m)
		if err != nil || !bytes.Equal(again, want) {
			t.Errorf("round trip: %v\ngot  % x\nwant % x", err, again, want)
		}
	}

	m, err := DecodeMessage(unhex(t, notepackBroadcast))
	if err != nil || string(m.Packet.Data) != `["ev",{"_placeholder":true,"num":0},{"n":1.5}]` || !bytes.Equal(m.Packet.Attachments[0], []byte{1, 2}) ||
		m.Opts.Rooms[0] != "r" || m.Packet.Nsp != "/" {
		t.Fatalf("%v %+v", err, m)
	}
	m, err = DecodeMessage(unhex(t, notepackFetchResp))
	if err != nil || m.Type != ClusterFetchSocketsResponse {
		t.Fatal(err, m)
	}
	socks, err := DecodeSockets(m.Sockets)
	if err != nil || len(socks) != 1 || socks[0].ID != "x" {
		t.Fatal(err, socks)
	}
	if b, _ := json.Marshal(socks[0].Data["b"]); string(b) != `{"data":[5],"type":"Buffer"}` {
		t.Fatal(string(b))
	}
}

func TestJSLength(t *testing.T) {
	for s, n := range map[string]int{"": 0, "abc": 3, "jN1PbUT18MN3A4O_AAAA": 20, "é": 1, "😀": 2} {
		if JSLength(s) != n {
			t.Errorf("%q: %d, want %d", s, JSLength(s), n)
		}
	}
}
