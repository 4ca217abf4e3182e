package engineio

import (
	"encoding/base64"
	"errors"
)

// PacketType is the one-character type of an Engine.IO packet.
type PacketType byte

// The Engine.IO v4 packet types, written on the wire as the digits '0'..'6'.
const (
	PacketOpen PacketType = iota
	PacketClose
	PacketPing
	PacketPong
	PacketMessage
	PacketUpgrade
	PacketNoop
)

var packetNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

func (t PacketType) String() string {
	if int(t) < len(packetNames) {
		return packetNames[t]
	}
	return "invalid"
}

// recordSeparator separates the packets of an HTTP long-polling payload.
const recordSeparator = 0x1e

// ErrInvalidPacket is returned for a packet that the Engine.IO v4 grammar does not allow.
var ErrInvalidPacket = errors.New("engineio: invalid packet")

// Frame is one encoded Engine.IO packet, ready to be written to any number of
// sessions: its bytes are never modified once built, so a broadcast builds one
// Frame and hands the same one to every session.
//
// A text Frame's Data is the whole packet as sent over WebSocket: the type digit
// followed by the payload ("4hello"). A binary Frame's Data is the raw bytes of a
// binary message packet; over polling it becomes "b" + base64 when written.
type Frame struct {
	Data   []byte
	Binary bool
}

// TextMessage returns the Frame of a text message packet carrying payload.
func TextMessage(payload []byte) Frame {
	b := make([]byte, 1+len(payload))
	b[0] = '0' + byte(PacketMessage)
	copy(b[1:], payload)
	return Frame{Data: b}
}

// BinaryMessage returns the Frame of a binary message packet. The bytes are
// shared, not copied: the caller must not modify them afterwards.
func BinaryMessage(payload []byte) Frame {
	return Frame{Data: payload, Binary: true}
}

// controlFrame returns a text frame of the given type with a payload.
func controlFrame(t PacketType, payload string) Frame {
	b := make([]byte, 1+len(payload))
	b[0] = '0' + byte(t)
	copy(b[1:], payload)
	return Frame{Data: b}
}

// Frames that carry no payload are built once.
var (
	framePing  = controlFrame(PacketPing, "")
	frameNoop  = controlFrame(PacketNoop, "")
	frameClose = controlFrame(PacketClose, "")
	frameProbe = controlFrame(PacketPong, "probe")
)

// size is what a frame costs in a session's queue budget.
func (f Frame) size() int { return len(f.Data) }

// pollingSize is the length of the frame inside a polling payload.
func (f Frame) pollingSize() int {
	if f.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(f.Data))
	}
	return len(f.Data)
}

// appendPolling appends the frame as it appears in a polling payload.
func (f Frame) appendPolling(dst []byte) []byte {
	if !f.Binary {
		return append(dst, f.Data...)
	}
	dst = append(dst, 'b')
	return base64.StdEncoding.AppendEncode(dst, f.Data)
}

// encodePayload joins frames into one HTTP long-polling payload.
func encodePayload(frames []Frame) []byte {
	n := len(frames) - 1
	for _, f := range frames {
		n += f.pollingSize()
	}
	out := make([]byte, 0, n)
	for i, f := range frames {
		if i > 0 {
			out = append(out, recordSeparator)
		}
		out = f.appendPolling(out)
	}
	return out
}

// packet is one decoded inbound packet. For a message, data is the payload
// (without the type digit) and binary tells which kind of message it was.
type packet struct {
	typ    PacketType
	data   []byte
	binary bool
}

// decodeText decodes one text packet: a type digit and its payload.
func decodeText(b []byte) (packet, error) {
	if len(b) == 0 || b[0] < '0' || b[0] > '0'+byte(PacketNoop) {
		return packet{}, ErrInvalidPacket
	}
	return packet{typ: PacketType(b[0] - '0'), data: b[1:]}, nil
}

// decodePayload decodes an HTTP long-polling payload into its packets. Binary
// packets arrive as "b" followed by base64.
func decodePayload(body []byte, visit func(packet) error) error {
	for start := 0; start <= len(body); {
		end := start
		for end < len(body) && body[end] != recordSeparator {
			end++
		}
		chunk := body[start:end]
		var p packet
		if len(chunk) > 0 && chunk[0] == 'b' {
			raw, err := base64.StdEncoding.AppendDecode(nil, chunk[1:])
			if err != nil {
				return ErrInvalidPacket
			}
			p = packet{typ: PacketMessage, data: raw, binary: true}
		} else {
			var err error
			if p, err = decodeText(chunk); err != nil {
				return err
			}
		}
		if err := visit(p); err != nil {
			return err
		}
		start = end + 1
	}
	return nil
}
