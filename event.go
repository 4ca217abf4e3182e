package roomcast

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/roomcast/roomcast/adapter"
	"github.com/roomcast/roomcast/parser"
)

// Event is one event a client sent: its name and its arguments, kept as the
// JSON the client sent, with the binary attachments they refer to.
type Event struct {
	// Name is the event's name.
	Name string
	// Args are the arguments, each exactly as received. A binary argument is a
	// placeholder object that Bind resolves to its attachment.
	Args []json.RawMessage
	// Attachments are the binary parts of the arguments, in order.
	Attachments [][]byte

	socket *Socket
	ackID  uint64
	hasAck bool
	acked  atomic.Bool
}

// RawArgs is a list of arguments as received, with their attachments. Passed
// as the only argument of Emit or Ack, it is sent on unchanged: byte for byte
// JSON and the same binary parts.
type RawArgs struct {
	Args        []json.RawMessage
	Attachments [][]byte
}

// RawArgs returns the event's arguments to pass on unchanged.
func (e *Event) RawArgs() RawArgs { return RawArgs{Args: e.Args, Attachments: e.Attachments} }

// Bind decodes the arguments, in order, into the pointers dst. A *[]byte
// receives a binary argument's bytes; a *json.RawMessage the argument as
// received; a *any (or *[]any, *map[string]any) the decoded value with binary
// parts as []byte; anything else is decoded by encoding/json. Extra
// arguments are ignored; missing ones give ErrMissingArgument.
func (e *Event) Bind(dst ...any) error { return bindArgs(e.Args, e.Attachments, dst) }

// Socket returns the socket the event came from.
func (e *Event) Socket() *Socket { return e.socket }

// HasAck reports whether the client asked for an acknowledgement.
func (e *Event) HasAck() bool { return e.hasAck }

// Ack answers the client's acknowledgement callback with args (a single
// RawArgs passes received arguments on unchanged). Only the first call
// counts; later ones return ErrAlreadyAcked.
func (e *Event) Ack(args ...any) error {
	if !e.hasAck {
		return ErrNoAck
	}
	if e.acked.Swap(true) {
		return ErrAlreadyAcked
	}
	data, atts, err := encodeArgs("", args)
	if err != nil {
		return err
	}
	return e.socket.writePacket(&parser.Packet{
		Type: parser.Ack, Namespace: e.socket.ns.name,
		ID: e.ackID, HasID: true, Data: data, Attachments: atts,
	}, false)
}

// Reply is one acknowledgement received for an emit: the arguments the
// client acked with.
type Reply struct {
	Args        []json.RawMessage
	Attachments [][]byte
}

// Bind decodes the reply's arguments into dst, as Event.Bind does.
func (r Reply) Bind(dst ...any) error { return bindArgs(r.Args, r.Attachments, dst) }

func replyOf(r adapter.Reply) (Reply, error) {
	args, err := parser.SplitArray(r.Data)
	if err != nil {
		return Reply{}, err
	}
	return Reply{Args: args, Attachments: r.Attachments}, nil
}

// encodeArgs builds an event's (or, with no name, an ack's) JSON array.
// RawArgs arguments are spliced in as received; their placeholders keep
// their numbers when they are the only binary parts, which is the case of
// everything passed on unchanged. Otherwise their binary values are decoded
// and numbered anew.
func encodeArgs(event string, args []any) (json.RawMessage, [][]byte, error) {
	var rawAtts [][]byte
	withBinary, hasRaw := 0, false
	for _, a := range args {
		if r, ok := a.(RawArgs); ok {
			hasRaw = true
			if len(r.Attachments) > 0 {
				withBinary++
				rawAtts = r.Attachments
			}
		}
	}
	if !hasRaw {
		return parser.EncodeArgs(event, args)
	}
	if withBinary <= 1 {
		data, atts, err := parser.EncodeArgs(event, spliceRaw(args, false))
		if err != nil || len(atts) == 0 {
			return data, rawAtts, err
		}
	}
	return parser.EncodeArgs(event, spliceRaw(args, true))
}

// spliceRaw expands RawArgs into their elements; with decode, the elements
// of RawArgs that carry binary parts are decoded to values with []byte.
func spliceRaw(args []any, decode bool) []any {
	out := make([]any, 0, len(args))
	for _, a := range args {
		r, ok := a.(RawArgs)
		if !ok {
			out = append(out, a)
			continue
		}
		for _, el := range r.Args {
			if decode && len(r.Attachments) > 0 {
				var v any
				if json.Unmarshal(el, &v) == nil {
					out = append(out, resolveBinary(v, r.Attachments))
					continue
				}
			}
			out = append(out, el)
		}
	}
	return out
}

func bindArgs(args []json.RawMessage, atts [][]byte, dst []any) error {
	for i, d := range dst {
		if i >= len(args) {
			return fmt.Errorf("%w: %d given, %d wanted", ErrMissingArgument, len(args), len(dst))
		}
		if err := bindOne(args[i], atts, d); err != nil {
			return fmt.Errorf("roomcast: argument %d: %w", i, err)
		}
	}
	return nil
}

func bindOne(raw json.RawMessage, atts [][]byte, dst any) error {
	switch d := dst.(type) {
	case *json.RawMessage:
		*d = append((*d)[:0], raw...)
		return nil
	case *[]byte:
		if b, ok := parser.ResolvePlaceholder(raw, atts); ok {
			*d = b
			return nil
		}
	case *any, *[]any, *map[string]any:
		if err := json.Unmarshal(raw, dst); err != nil {
			return err
		}
		if len(atts) > 0 && bytes.Contains(raw, []byte(`"_placeholder"`)) {
			switch d := dst.(type) {
			case *any:
				*d = resolveBinary(*d, atts)
			case *[]any:
				for i := range *d {
					(*d)[i] = resolveBinary((*d)[i], atts)
				}
			case *map[string]any:
				for k, v := range *d {
					(*d)[k] = resolveBinary(v, atts)
				}
			}
		}
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// resolveBinary replaces placeholder objects in a decoded value by their
// attachments. Depth is bounded by the decoder's own nesting limit.
func resolveBinary(v any, atts [][]byte) any {
	switch x := v.(type) {
	case map[string]any:
		if ph, _ := x["_placeholder"].(bool); ph && len(x) == 2 {
			if n, ok := x["num"].(float64); ok && n >= 0 && int(n) < len(atts) && float64(int(n)) == n {
				return atts[int(n)]
			}
		}
		for k, e := range x {
			x[k] = resolveBinary(e, atts)
		}
	case []any:
		for i, e := range x {
			x[i] = resolveBinary(e, atts)
		}
	}
	return v
}
