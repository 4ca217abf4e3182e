package parser

import (
	"errors"
	"strconv"
)

// Sentinel errors. Decoding failures caused by the content of a message are
// returned as *DecodeError wrapping one of ErrInvalidPacket, ErrInvalidJSON,
// ErrTooDeep or ErrTooManyAttachments, so callers can test the category with
// errors.Is and still log where the input went wrong.
var (
	// ErrUnexpectedBinary: a binary message arrived while no packet was
	// waiting for attachments.
	ErrUnexpectedBinary = errors.New("parser: binary message when not reconstructing a packet")

	// ErrExpectedBinary: a text message arrived while a packet was still
	// waiting for its attachments (the reference decoder's "got plaintext
	// data when reconstructing a packet").
	ErrExpectedBinary = errors.New("parser: text message when reconstructing a packet")

	// ErrAttachmentsPending: Decode was given a binary packet; its
	// attachments can only be collected by a Decoder.
	ErrAttachmentsPending = errors.New("parser: packet awaits binary attachments")

	// ErrInvalidPacket: the packet header or the shape of its payload is
	// not what the protocol allows.
	ErrInvalidPacket = errors.New("parser: invalid packet")

	// ErrInvalidJSON: the payload is not valid JSON (or not valid UTF-8).
	ErrInvalidJSON = errors.New("parser: invalid JSON")

	// ErrTooDeep: JSON nested deeper than MaxDepth.
	ErrTooDeep = errors.New("parser: JSON nested too deeply")

	// ErrTooManyAttachments: the declared attachment count exceeds the
	// decoder's limit.
	ErrTooManyAttachments = errors.New("parser: too many attachments")
)

// DecodeError describes malformed input: what was wrong and where.
type DecodeError struct {
	Offset int    // byte offset in the input where the problem was found
	Msg    string // human-readable detail
	Err    error  // the category: one of the sentinels above
}

func (e *DecodeError) Error() string {
	return "parser: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns the category sentinel.
func (e *DecodeError) Unwrap() error { return e.Err }

func errAt(off int, cat error, msg string) error {
	return &DecodeError{Offset: off, Msg: msg, Err: cat}
}
