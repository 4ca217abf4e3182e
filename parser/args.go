package parser

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// EventName returns the event name: the first element of Data, which must be
// a JSON string. Data must be a non-empty array. Numeric names, which the
// decoder lets through like the reference does, are reported as an error here
// because a Go handler is looked up by string.
func (p *Packet) EventName() (string, error) {
	i := skipSpace(p.Data, 0)
	if i >= len(p.Data) || p.Data[i] != '[' {
		return "", errAt(i, ErrInvalidPacket, "payload is not an array")
	}
	var first span
	found := false
	err := walk(p.Data, func(s span) error {
		if s.depth == 1 {
			first, found = s, true
			return errStop // the name is all we need
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if !found || first.kind != kindString {
		return "", errAt(first.start, ErrInvalidPacket, "event name is not a string")
	}
	name, ok := unquote(p.Data[first.start:first.end])
	if !ok {
		return "", errAt(first.start, ErrInvalidJSON, "invalid event name")
	}
	return name, nil
}

// Args returns the arguments of an event or ack, each element as a
// json.RawMessage sharing p.Data's memory: for Event and BinaryEvent the
// elements after the name, for Ack and BinaryAck all elements.
func (p *Packet) Args() ([]json.RawMessage, error) {
	switch p.Type {
	case Event, BinaryEvent:
		elems, err := SplitArray(p.Data)
		if err != nil {
			return nil, err
		}
		if len(elems) == 0 {
			return nil, errAt(0, ErrInvalidPacket, "event without a name")
		}
		return elems[1:], nil
	case Ack, BinaryAck:
		return SplitArray(p.Data)
	}
	return nil, errAt(0, ErrInvalidPacket, p.Type.String()+" has no arguments")
}

// EncodeArgs builds the JSON array [event, args...] (without the name when
// event is "", as for ack replies) and extracts binary attachments.
//
// Every []byte found at the top level, inside []any and map[string]any, and
// inside those recursively, becomes a placeholder {"_placeholder":true,"num":N}
// and is returned as attachment N (not copied; a nil []byte is an empty
// attachment). json.RawMessage values are checked and inserted as-is; a nil
// one is null. map[string]any keys are sorted, as encoding/json does. All
// other values go through encoding/json, so a []byte inside a struct, a typed
// map or a [][]byte is base64 text there, not an attachment.
func EncodeArgs(event string, args []any) (data json.RawMessage, attachments [][]byte, err error) {
	e := argEncoder{buf: make([]byte, 0, 64)}
	e.buf = append(e.buf, '[')
	if event != "" {
		e.buf = appendQuoted(e.buf, event)
	}
	for i, a := range args {
		if i > 0 || event != "" {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(a, 1); err != nil {
			return nil, nil, err
		}
	}
	e.buf = append(e.buf, ']')
	return e.buf, e.attachments, nil
}

// errCycle stands for a value nested deeper than MaxDepth, which in practice
// means a []any or map[string]any that contains itself.
var errCycle = errors.New("parser: argument nested deeper than MaxDepth (cyclic value?)")

type argEncoder struct {
	buf         []byte
	attachments [][]byte
}

// value appends v, which sits inside depth open containers.
func (e *argEncoder) value(v any, depth int) error {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case json.RawMessage:
		if x == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if err := walk(x, nil); err != nil {
			return err
		}
		e.buf = append(e.buf, x...)
	case []byte:
		e.buf = append(e.buf, `{"_placeholder":true,"num":`...)
		e.buf = strconv.AppendInt(e.buf, int64(len(e.attachments)), 10)
		e.buf = append(e.buf, '}')
		if x == nil {
			x = []byte{}
		}
		e.attachments = append(e.attachments, x)
	case string:
		e.buf = appendQuoted(e.buf, x)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || x != math.Trunc(x) || math.Abs(x) >= 1e21 {
			return e.marshal(x) // let encoding/json format or reject it
		}
		e.buf = strconv.AppendFloat(e.buf, x, 'f', -1, 64)
	case []any:
		if depth >= MaxDepth {
			return errCycle
		}
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(el, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case map[string]any:
		if depth >= MaxDepth {
			return errCycle
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendQuoted(e.buf, k)
			e.buf = append(e.buf, ':')
			if err := e.value(x[k], depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	default:
		return e.marshal(x)
	}
	return nil
}

func (e *argEncoder) marshal(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, b...)
	return nil
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string, escaping what JSON requires (like
// JSON.stringify, and unlike encoding/json, it leaves <, > and & alone) and
// replacing invalid UTF-8 with U+FFFD so that the result is always valid.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
