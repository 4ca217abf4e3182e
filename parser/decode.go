package parser

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// Decoder reassembles packets from the messages of one connection: a binary
// packet's text message is held until its attachments have arrived as the
// following binary messages. A Decoder is not safe for concurrent use; each
// connection's read loop owns one. The zero value is ready to use.
type Decoder struct {
	// MaxAttachments bounds the attachment count a packet may declare;
	// zero (or negative) means DefaultMaxAttachments, 10, as in the
	// reference decoder. A larger declared count is an error before anything
	// is allocated for it.
	MaxAttachments int

	pending *Packet // binary packet awaiting attachments, or nil
	want    int     // attachments pending must receive
}

// Add feeds one Engine.IO message payload: for text, the message without the
// Engine.IO '4' prefix; for binary, the raw bytes. It returns a complete
// packet, or (nil, nil) while attachments are still awaited.
//
// The returned packet shares memory with the messages it came from (Data is
// a sub-slice of the text, Attachments are the binary messages themselves),
// so callers must not modify a message after passing it to Add.
//
// Errors are ErrUnexpectedBinary, ErrExpectedBinary, or a *DecodeError
// wrapping ErrInvalidPacket, ErrInvalidJSON, ErrTooDeep or
// ErrTooManyAttachments. After an error the decoder is reset and usable,
// though a server closes the connection on any of them.
func (d *Decoder) Add(msg []byte, binary bool) (*Packet, error) {
	if binary {
		p := d.pending
		if p == nil {
			return nil, ErrUnexpectedBinary
		}
		p.Attachments = append(p.Attachments, msg)
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.Reset()
		return p, nil
	}
	if d.pending != nil {
		d.Reset()
		return nil, ErrExpectedBinary
	}
	max := d.MaxAttachments
	if max <= 0 {
		max = DefaultMaxAttachments
	}
	p, n, err := decodeText(msg, max)
	if err != nil || n == 0 {
		return p, err
	}
	// n <= max, so this allocation is bounded by the decoder's limit, not by
	// what the peer declared.
	p.Attachments = make([][]byte, 0, n)
	d.pending, d.want = p, n
	return nil, nil
}

// Reset drops any partially received packet.
func (d *Decoder) Reset() {
	d.pending, d.want = nil, 0
}

// Decode decodes one text packet that needs no attachments, with the default
// attachment limit. A binary packet yields ErrAttachmentsPending, since only
// a Decoder can collect its attachments. The packet shares memory with text.
func Decode(text []byte) (*Packet, error) {
	p, n, err := decodeText(text, DefaultMaxAttachments)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, ErrAttachmentsPending
	}
	return p, nil
}

// decodeText parses
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// and returns the packet and its declared attachment count.
func decodeText(msg []byte, maxAttachments int) (*Packet, int, error) {
	if len(msg) == 0 {
		return nil, 0, errAt(0, ErrInvalidPacket, "empty packet")
	}
	if msg[0] < '0' || msg[0] > '0'+byte(BinaryAck) {
		return nil, 0, errAt(0, ErrInvalidPacket, "unknown packet type "+strconv.QuoteRune(rune(msg[0])))
	}
	p := &Packet{Type: PacketType(msg[0] - '0'), Namespace: "/"}
	i := 1

	n := 0
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		j := i
		for ; j < len(msg) && '0' <= msg[j] && msg[j] <= '9'; j++ {
			// Checked at every digit, so a count of billions fails
			// before it can overflow or be used.
			if n = n*10 + int(msg[j]-'0'); n > maxAttachments {
				return nil, 0, errAt(i, ErrTooManyAttachments, "too many attachments")
			}
		}
		if j == i || j == len(msg) || msg[j] != '-' || n < 1 {
			return nil, 0, errAt(i, ErrInvalidPacket, "illegal attachments")
		}
		i = j + 1
	}

	if i < len(msg) && msg[i] == '/' {
		j := i
		for j < len(msg) && msg[j] != ',' {
			j++
		}
		ns := msg[i:j]
		if !utf8.Valid(ns) {
			return nil, 0, errAt(i, ErrInvalidPacket, "namespace is not UTF-8")
		}
		if len(ns) > 1 { // "/" is already set, without allocating
			p.Namespace = string(ns)
		}
		i = j
		if i < len(msg) {
			i++ // the comma
		}
	}

	if j := skipDigits(msg, i); j > i {
		var id uint64
		for _, c := range msg[i:j] {
			if id = id*10 + uint64(c-'0'); id > maxSafeID {
				return nil, 0, errAt(i, ErrInvalidPacket, "ack id exceeds 2^53-1")
			}
		}
		p.ID, p.HasID = id, true
		i = j
	}

	if i < len(msg) {
		p.Data = msg[i:len(msg):len(msg)]
	}
	if err := checkPayload(p.Type, p.Data, n); err != nil {
		if de, ok := err.(*DecodeError); ok {
			de.Offset += i // report offsets in msg, not in the payload
		}
		return nil, 0, err
	}
	return p, n, nil
}

// reservedEvents are names the reference implementation uses for its own
// events; its decoder rejects packets that use them, and so do we.
var reservedEvents = [...]string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// IsReservedEvent reports whether name is one of the event names that peers
// must not send (connect, connect_error, disconnect, disconnecting,
// newListener, removeListener): the decoder rejects them, and an emitter
// should refuse them.
func IsReservedEvent(name string) bool {
	for _, r := range reservedEvents {
		if name == r {
			return true
		}
	}
	return false
}

// checkPayload validates data as the payload of a packet of type t, the
// reference decoder's isPayloadValid made stricter where the protocol says
// MUST: Connect carries nothing or an object; Disconnect nothing;
// ConnectError a string or an object; Event and BinaryEvent a non-empty array
// whose first element is an event name; Ack and BinaryAck an array. An event
// name is a string that is not reserved, or a number: the reference accepts
// numbers (JavaScript emitters key events by String(n)), and so do we, though
// EventName reports them as errors. For binary types with n attachments, every
// placeholder must refer to one of them.
func checkPayload(t PacketType, data []byte, n int) error {
	if len(data) == 0 {
		if t == Connect || t == Disconnect {
			return nil
		}
		return errAt(0, ErrInvalidPacket, "missing payload for "+t.String())
	}
	if t == Disconnect {
		return errAt(0, ErrInvalidPacket, "payload on "+t.String())
	}
	binary := t == BinaryEvent || t == BinaryAck
	top := kindNull
	var first span
	haveFirst := false
	var ph phTracker
	err := walk(data, func(s span) error {
		if s.depth == 0 {
			top = s.kind
			return nil
		}
		if s.depth == 1 && !haveFirst {
			first, haveFirst = s, true
		}
		if binary {
			ph.member(data, s, n)
			if s.kind == kindObject {
				if marked, num := ph.closed(s); marked && num < 0 {
					return errAt(s.start, ErrInvalidPacket, "invalid attachment placeholder")
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	ok := false
	switch t {
	case Connect:
		ok = top == kindObject
	case ConnectError:
		ok = top == kindObject || top == kindString
	case Event, BinaryEvent:
		ok = top == kindArray && haveFirst && (first.kind == kindNumber ||
			first.kind == kindString && !isReservedRaw(data[first.start:first.end]))
	case Ack, BinaryAck:
		ok = top == kindArray
	}
	if !ok {
		return errAt(0, ErrInvalidPacket, "invalid payload for "+t.String())
	}
	return nil
}

// isReservedRaw is IsReservedEvent for a raw JSON string literal. Escapes
// must be decoded first ("\u0063onnect" is "connect" to JSON.parse), but
// only literals short enough to spell a reserved name with escapes are worth
// decoding.
func isReservedRaw(raw []byte) bool {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return IsReservedEvent(string(body))
	}
	if len(body) > 6*len("removeListener") {
		return false
	}
	s, ok := unquote(raw)
	return ok && IsReservedEvent(s)
}
