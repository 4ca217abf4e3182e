package redis_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	redisadapter "github.com/roomcast/roomcast/adapter/redis"
	"github.com/roomcast/roomcast/adapter/redis/wire"
)

// A server answers requests as the Node.js adapter does, the legacy forms
// included, on the shared response channel or, with
// PublishOnSpecificResponseChannel, on the requester's own.
func TestAnswersRawRequests(t *testing.T) {
	for _, specific := range []bool{false, true} {
		t.Run(map[bool]string{false: "shared", true: "specific"}[specific], func(t *testing.T) {
			key := uniqueKey()
			nodes := startCluster(t, redisAddr(), key, 1, &config{opts: redisadapter.Options{PublishOnSpecificResponseChannel: specific}}, nil)
			c := dial(t, nodes[0], false)
			c.socket(nodes[0]).Join("a")
			rdb := nodes[0].rdb
			ch := wire.NewChannels(key, "/")
			respCh := ch.Response
			if specific {
				respCh = ch.SpecificResponse("asker")
			}
			ctx := context.Background()
			ps := rdb.Subscribe(ctx, respCh)
			defer ps.Close()
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			ask := func(req []byte) []byte {
				t.Helper()
				if err := rdb.Publish(ctx, ch.Request, req).Err(); err != nil {
					t.Fatal(err)
				}
				return next(t, ps.ReceiveMessage)
			}

			if got := ask([]byte(`{"uid":"asker","requestId":"r0","type":0,"rooms":["a"]}`)); string(got) != `{"requestId":"r0","sockets":["`+c.sid+`"]}` {
				t.Fatal(string(got))
			}
			if got := ask([]byte(`{"uid":"asker","requestId":"r1","type":2,"sid":"` + c.sid + `","room":"legacy"}`)); string(got) != `{"requestId":"r1"}` {
				t.Fatal(string(got))
			}
			if !slices.Contains(c.socket(nodes[0]).Rooms(), "legacy") {
				t.Fatal("legacy join not applied")
			}
			var rooms struct {
				RequestID string   `json:"requestId"`
				Rooms     []string `json:"rooms"`
			}
			json.Unmarshal(ask([]byte(`{"uid":"asker","requestId":"r2","type":1}`)), &rooms)
			slices.Sort(rooms.Rooms)
			if rooms.RequestID != "r2" || !slices.Equal(rooms.Rooms, slices.Sorted(slices.Values([]string{"a", "legacy", c.sid}))) {
				t.Fatal(rooms)
			}
			fetched := ask([]byte(`{"uid":"asker","requestId":"r3","type":5,"opts":{"rooms":["a"],"except":[]}}`))
			s, err := wire.DecodeResponse(fetched)
			if err != nil {
				t.Fatal(err)
			}
			socks, err := wire.DecodeSockets(s.Sockets)
			if err != nil || len(socks) != 1 || socks[0].ID != c.sid || socks[0].Handshake.Headers["host"] == "" {
				t.Fatal(err, string(fetched))
			}

			// A broadcast with acks from a Node.js server: the client count,
			// then the ack, whose first argument is the client's id.
			req, _ := wire.AppendRequest(nil, &wire.Request{UID: "asker", RequestID: "r4", Type: wire.Broadcast,
				Packet: &wire.Packet{Data: json.RawMessage(`["ask"]`), Nsp: "/"}, Opts: &wire.Opts{Flags: wire.Flags{Timeout: 1000}}})
			if got := ask(req); string(got) != `{"type":8,"requestId":"r4","clientCount":1}` {
				t.Fatal(string(got))
			}
			ack, err := wire.DecodeResponse(next(t, ps.ReceiveMessage))
			if err != nil || ack.Type != wire.BroadcastAck || ack.RequestID != "r4" || string(ack.Packet) != `"`+c.sid+`"` {
				t.Fatal(err, ack)
			}
		})
	}
}

func next(t *testing.T, recv func(context.Context) (*goredis.Message, error)) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	m, err := recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(m.Payload)
}

// An event from a Node.js emitter with a Date and an undefined reaches the
// client as JSON.stringify would write them.
func TestEmitterValuesFromNode(t *testing.T) {
	key := uniqueKey()
	nodes := startCluster(t, redisAddr(), key, 1, nil, nil)
	c := dial(t, nodes[0], false)
	c.socket(nodes[0]).Join("room1")
	// notepack bytes of ["emitter", {type:2, data:["ev", new Date(0), {a:undefined,b:1}, [undefined]], nsp:"/"}, {rooms:["room1"], flags:{}, except:[]}]
	payload := []byte{0x93, 0xa7}
	payload = append(payload, "emitter"...)
	payload = append(payload, 0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa4, 'd', 'a', 't', 'a', 0x94, 0xa2, 'e', 'v',
		0xd6, 0xff, 0, 0, 0, 0, 0x82, 0xa1, 'a', 0xd4, 0x00, 0x00, 0xa1, 'b', 0x01, 0x91, 0xd4, 0x00, 0x00,
		0xa3, 'n', 's', 'p', 0xa1, '/',
		0x83, 0xa5, 'r', 'o', 'o', 'm', 's', 0x91, 0xa5, 'r', 'o', 'o', 'm', '1', 0xa5, 'f', 'l', 'a', 'g', 's', 0x80,
		0xa6, 'e', 'x', 'c', 'e', 'p', 't', 0x90)
	if err := nodes[0].rdb.Publish(context.Background(), wire.NewChannels(key, "/").Room("room1"), payload).Err(); err != nil {
		t.Fatal(err)
	}
	e := c.expect("ev")
	if string(e.p.Data) != `["ev","1970-01-01T00:00:00.000Z",{"b":1},[null]]` {
		t.Fatal(string(e.p.Data))
	}
}
