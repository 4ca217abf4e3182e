// Package parser is the Socket.IO protocol v5 packet codec.
//
// A packet travels as one Engine.IO text message, followed, for the binary
// types, by one Engine.IO binary message per attachment. The codec never
// re-marshals payloads: Data holds the JSON bytes exactly as they arrived, so
// a broadcast can forward a client's arguments unchanged and each packet is
// validated once, with an iterative scanner that cannot be driven into deep
// recursion by hostile input.
//
// Nothing here panics on bad input; malformed messages yield errors that the
// connection layer turns into a protocol close.
package parser

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PacketType is the Socket.IO packet type, written as one decimal digit.
type PacketType byte

// The packet types of protocol v5.
const (
	Connect      PacketType = iota // 0: join a namespace (client) or accept the join (server)
	Disconnect                     // 1: leave a namespace
	Event                          // 2: an event with JSON arguments
	Ack                            // 3: the reply to an event that carried an id
	ConnectError                   // 4: the join was refused
	BinaryEvent                    // 5: an Event with binary attachments
	BinaryAck                      // 6: an Ack with binary attachments
)

var typeNames = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// String returns the protocol name of t, as used in the reference
// implementation's logs.
func (t PacketType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

// DefaultMaxAttachments is the attachment limit of a Decoder whose
// MaxAttachments is zero; it matches the reference decoder's default.
const DefaultMaxAttachments = 10

// maxSafeID is the largest ack id a JavaScript peer can represent exactly
// (Number.MAX_SAFE_INTEGER); larger ids would be silently rounded there.
const maxSafeID = 1<<53 - 1

// Packet is one Socket.IO packet.
//
// Data holds the JSON exactly as received or to be sent (never re-marshalled):
// for Event/BinaryEvent/Ack/BinaryAck the JSON array; for Connect the optional
// auth object (nil when absent); for ConnectError the error object or string;
// nil for Disconnect. Binary attachments stay as {"_placeholder":true,"num":N}
// in Data and their bytes are in Attachments, in order num=0..n-1.
//
// A decoded packet keeps the type it had on the wire: a packet that came with
// attachments is BinaryEvent or BinaryAck, never Event or Ack.
type Packet struct {
	Type        PacketType
	Namespace   string // "/" when the packet has none
	ID          uint64 // ack id, valid when HasID
	HasID       bool
	Data        json.RawMessage
	Attachments [][]byte
}

// Validate reports whether p can be encoded into something a peer decodes
// back to the same packet; AppendEncode cannot report errors, so senders that
// build packets from untrusted parts (a namespace name from a URL, say) check
// here first. It applies the decoder's rules: a namespace is empty or starts
// with '/', is UTF-8 and has no comma, the id is a JavaScript safe integer, Data has
// the shape required by the type, and every placeholder refers to an
// attachment.
func (p *Packet) Validate() error {
	if p.Type > BinaryAck {
		return errAt(0, ErrInvalidPacket, "unknown packet type "+p.Type.String())
	}
	if ns := p.Namespace; ns != "" && (ns[0] != '/' || strings.IndexByte(ns, ',') >= 0 || !utf8.ValidString(ns)) {
		return errAt(0, ErrInvalidPacket, "invalid namespace "+strconv.Quote(ns))
	}
	if p.HasID && p.ID > maxSafeID {
		return errAt(0, ErrInvalidPacket, "ack id exceeds 2^53-1")
	}
	t := wireType(p.Type, len(p.Attachments))
	if len(p.Attachments) > 0 && t != BinaryEvent && t != BinaryAck {
		return errAt(0, ErrInvalidPacket, "attachments on a "+t.String()+" packet")
	}
	return checkPayload(t, p.Data, len(p.Attachments))
}

// wireType is the type AppendEncode writes: attachments turn Event and Ack
// into their binary forms, and a binary type without attachments falls back
// to the plain one because "50-" is undecodable.
func wireType(t PacketType, attachments int) PacketType {
	switch {
	case attachments > 0 && t == Event:
		return BinaryEvent
	case attachments > 0 && t == Ack:
		return BinaryAck
	case attachments == 0 && t == BinaryEvent:
		return Event
	case attachments == 0 && t == BinaryAck:
		return Ack
	}
	return t
}
