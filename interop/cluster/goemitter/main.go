// Command goemitter publishes one message with Roomcast's emitter package,
// for the mixed-cluster interop tests (interop/cluster.test.mjs): the Go
// counterpart of @socket.io/redis-emitter, run against Node.js servers.
//
//	goemitter '{"redis":"redis://127.0.0.1:6379","nsp":"/","to":["r1"],"op":"emit","event":"ev","args":[1,{"$bin":"0102"}]}'
//
// op is emit, serverSideEmit, socketsJoin, socketsLeave or disconnectSockets;
// "rooms" are the rooms to join or leave, "close" the disconnect flag,
// "volatile" the flag of emit. An argument {"$bin":"<hex>"} is sent as binary.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/roomcast/roomcast/emitter"
)

type command struct {
	Redis    string   `json:"redis"`
	Key      string   `json:"key"`
	Nsp      string   `json:"nsp"`
	To       []string `json:"to"`
	Except   []string `json:"except"`
	Volatile bool     `json:"volatile"`
	Op       string   `json:"op"`
	Event    string   `json:"event"`
	Args     []any    `json:"args"`
	Rooms    []string `json:"rooms"`
	Close    bool     `json:"close"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "goemitter:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: goemitter '<JSON command>'")
	}
	var cmd command
	if err := json.Unmarshal([]byte(os.Args[1]), &cmd); err != nil {
		return err
	}
	opts, err := goredis.ParseURL(cmd.Redis)
	if err != nil {
		return err
	}
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	e := emitter.New(rdb, &emitter.Options{Key: cmd.Key})
	if cmd.Nsp != "" {
		e = e.Of(cmd.Nsp)
	}
	op := e.To(cmd.To...).Except(cmd.Except...)
	if cmd.Volatile {
		op = op.Volatile()
	}
	args := make([]any, len(cmd.Args))
	for i, a := range cmd.Args {
		args[i] = binary(a)
	}
	switch cmd.Op {
	case "emit":
		return op.Emit(ctx, cmd.Event, args...)
	case "serverSideEmit":
		return e.ServerSideEmit(ctx, cmd.Event, args...)
	case "socketsJoin":
		return op.SocketsJoin(ctx, cmd.Rooms...)
	case "socketsLeave":
		return op.SocketsLeave(ctx, cmd.Rooms...)
	case "disconnectSockets":
		return op.DisconnectSockets(ctx, cmd.Close)
	}
	return fmt.Errorf("unknown op %q", cmd.Op)
}

// binary replaces {"$bin":"<hex>"} objects with their bytes, at any depth.
func binary(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if h, ok := x["$bin"].(string); ok && len(x) == 1 {
			if b, err := hex.DecodeString(h); err == nil {
				return b
			}
		}
		for k, e := range x {
			x[k] = binary(e)
		}
	case []any:
		for i, e := range x {
			x[i] = binary(e)
		}
	}
	return v
}
