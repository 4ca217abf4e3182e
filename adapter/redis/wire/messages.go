// Package wire is the wire format of the classic @socket.io/redis-adapter
// (8.x) and of @socket.io/redis-emitter (5.x): channel names, the broadcast
// envelope, the requests and responses that servers exchange, and the
// conversion between Roomcast's JSON-with-attachments arguments and the
// MessagePack values Node.js servers put on the wire. It is shared by
// adapter/redis and the emitter package, and does no I/O.
//
// Encodings: broadcasts, BROADCAST requests and BROADCAST_ACK responses are
// MessagePack as notepack.io writes it; every other request and response is
// JSON. Receivers tell them apart by the first byte ('{' is JSON).
package wire

import (
	"encoding/json"
	"strconv"
	"strings"
)

// DefaultKey is the default prefix of every channel ("key" option of the
// Node.js adapter and emitter).
const DefaultKey = "socket.io"

// EmitterUID is the uid the Node.js emitter puts in what it publishes.
const EmitterUID = "emitter"

// RequestType is the numeric code of a request or response.
type RequestType int

// The request types of the classic protocol.
const (
	NoType               RequestType = -1 // a response without "type"
	Sockets              RequestType = 0  // legacy: ids of the sockets in rooms
	AllRooms             RequestType = 1
	RemoteJoin           RequestType = 2
	RemoteLeave          RequestType = 3
	RemoteDisconnect     RequestType = 4
	RemoteFetch          RequestType = 5
	ServerSideEmit       RequestType = 6
	Broadcast            RequestType = 7 // a broadcast with acknowledgements
	BroadcastClientCount RequestType = 8 // response only
	BroadcastAck         RequestType = 9 // response only
)

// Channels names the channels of one namespace under one key.
type Channels struct {
	// Broadcast is "key#nsp#", the channel of namespace-wide and
	// multi-room broadcasts; one-room broadcasts go to Room(room).
	Broadcast string
	// Request is "key-request#nsp#", where every server listens for requests;
	// PUBSUB NUMSUB of it counts the servers.
	Request string
	// Response is "key-response#nsp#", the shared response channel.
	Response string
}

// NewChannels returns the channels of namespace nsp under key.
func NewChannels(key, nsp string) Channels {
	return Channels{
		Broadcast: key + "#" + nsp + "#",
		Request:   key + "-request#" + nsp + "#",
		Response:  key + "-response#" + nsp + "#",
	}
}

// Room returns the channel of a broadcast to room alone: "key#nsp#room#".
func (c Channels) Room(room string) string { return c.Broadcast + room + "#" }

// SpecificResponse returns the response channel of the server uid.
func (c Channels) SpecificResponse(uid string) string { return c.Response + uid + "#" }

// Pattern returns the pattern that matches the broadcast channel and every
// room channel of the namespace, with the glob characters of the namespace
// name escaped.
func (c Channels) Pattern() string {
	var b strings.Builder
	for _, r := range c.Broadcast {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('*')
	return b.String()
}

// RoomOf returns the room a broadcast channel names ("" for the broadcast
// channel itself), and false for a channel of another namespace.
func (c Channels) RoomOf(channel string) (string, bool) {
	rest, ok := strings.CutPrefix(channel, c.Broadcast)
	if !ok {
		return "", false
	}
	if rest == "" {
		return "", true
	}
	room, ok := strings.CutSuffix(rest, "#")
	return room, ok
}

// Packet is the Socket.IO packet object that crosses the cluster: always an
// EVENT (type 2), its data the JSON array [event, ...args] with binary
// values as placeholders and attachments.
type Packet struct {
	Data        json.RawMessage
	Attachments [][]byte
	// Nsp is the namespace; decoding defaults a missing one to "/".
	Nsp string
	// ID is the ack id some packets carry (HasID).
	ID    uint64
	HasID bool
}

// Flags are the broadcast flags that travel.
type Flags struct {
	Volatile bool
	Compress bool
	// Timeout is the acknowledgement timeout in milliseconds (0: none).
	Timeout              int64
	ExpectSingleResponse bool
}

// Opts select the sockets of an operation: those in any of Rooms (all when
// empty) that are in none of Except.
type Opts struct {
	Rooms  []string
	Except []string
	Flags  Flags
}

// Envelope is a message of the broadcast channels: [uid, packet, opts].
type Envelope struct {
	UID    string
	Packet Packet
	Opts   Opts
}

// AppendEnvelope appends the MessagePack envelope of a broadcast, in the
// key order of the Node.js adapter (opts: rooms, except, flags).
func AppendEnvelope(dst []byte, e *Envelope) ([]byte, error) {
	return appendEnvelope(dst, e, false)
}

// AppendEmitterEnvelope is AppendEnvelope in the key order of the Node.js
// emitter (opts: rooms, flags, except).
func AppendEmitterEnvelope(dst []byte, e *Envelope) ([]byte, error) {
	return appendEnvelope(dst, e, true)
}

func appendEnvelope(dst []byte, e *Envelope, emitterOrder bool) ([]byte, error) {
	dst = appendArrayHeader(dst, 3)
	dst = appendStr(dst, e.UID)
	dst, err := appendPacket(dst, &e.Packet)
	if err != nil {
		return nil, err
	}
	return appendOpts(dst, &e.Opts, emitterOrder, true), nil
}

func appendPacket(dst []byte, p *Packet) ([]byte, error) {
	n := 3
	if p.HasID {
		n++
	}
	dst = appendMapHeader(dst, n)
	dst = appendStr(dst, "type")
	dst = appendUint(dst, 2) // EVENT even with binary: Node turns it into BINARY_EVENT itself
	dst = appendStr(dst, "data")
	dst, err := AppendMsgpack(dst, p.Data, p.Attachments)
	if err != nil {
		return nil, err
	}
	dst = appendStr(dst, "nsp")
	dst = appendStr(dst, p.Nsp)
	if p.HasID {
		dst = appendStr(dst, "id")
		dst = appendUint(dst, p.ID)
	}
	return dst, nil
}

func appendOpts(dst []byte, o *Opts, emitterOrder, withFlags bool) []byte {
	n := 2
	if withFlags {
		n++
	}
	dst = appendMapHeader(dst, n)
	dst = appendStr(dst, "rooms")
	dst = appendStrings(dst, o.Rooms)
	if withFlags && emitterOrder {
		dst = appendFlags(dst, &o.Flags)
	}
	dst = appendStr(dst, "except")
	dst = appendStrings(dst, o.Except)
	if withFlags && !emitterOrder {
		dst = appendFlags(dst, &o.Flags)
	}
	return dst
}

func appendFlags(dst []byte, f *Flags) []byte {
	dst = appendStr(dst, "flags")
	n := 0
	for _, set := range []bool{f.Volatile, f.Compress, f.Timeout > 0, f.ExpectSingleResponse} {
		if set {
			n++
		}
	}
	dst = appendMapHeader(dst, n)
	if f.Volatile {
		dst = appendBool(appendStr(dst, "volatile"), true)
	}
	if f.Compress {
		dst = appendBool(appendStr(dst, "compress"), true)
	}
	if f.Timeout > 0 {
		dst = appendInt(appendStr(dst, "timeout"), f.Timeout)
	}
	if f.ExpectSingleResponse {
		dst = appendBool(appendStr(dst, "expectSingleResponse"), true)
	}
	return dst
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = appendArrayHeader(dst, len(ss))
	for _, s := range ss {
		dst = appendStr(dst, s)
	}
	return dst
}

// DecodeEnvelope decodes a message of the broadcast channels.
func DecodeEnvelope(b []byte) (*Envelope, error) {
	r := reader{b: b}
	n, err := r.arrayLen()
	if err != nil || n < 3 {
		return nil, ErrMalformed
	}
	e := &Envelope{}
	if e.UID, err = jsString(&r); err != nil {
		return nil, err
	}
	if err := decodePacket(&r, &e.Packet); err != nil {
		return nil, err
	}
	if err := decodeOpts(&r, &e.Opts); err != nil {
		return nil, err
	}
	for i := 3; i < n; i++ {
		if err := r.skip(); err != nil {
			return nil, err
		}
	}
	if !r.done() {
		return nil, ErrMalformed
	}
	return e, nil
}

// decodePacket reads a packet map; a missing nsp is "/", and type 5 (sent
// by very old emitters) counts as 2.
func decodePacket(r *reader, p *Packet) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	p.Nsp = "/"
	typ := 2.0
	for range n {
		key, ok, err := mapKey(r)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			err = r.skip()
		case key == "type":
			typ, err = r.number()
		case key == "data":
			start := r.off
			if err = r.skip(); err == nil {
				p.Data, p.Attachments, err = ToJSON(r.b[start:r.off])
			}
		case key == "nsp":
			p.Nsp, err = jsString(r)
		case key == "id":
			var id float64
			if id, err = r.number(); err == nil && id >= 0 {
				p.ID, p.HasID = uint64(id), true
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return err
		}
	}
	if typ != 2 && typ != 5 || p.Data == nil {
		return ErrMalformed
	}
	return nil
}

func decodeOpts(r *reader, o *Opts) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	for range n {
		key, ok, err := mapKey(r)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			err = r.skip()
		case key == "rooms":
			o.Rooms, err = stringList(r)
		case key == "except":
			o.Except, err = stringList(r)
		case key == "flags":
			err = decodeFlags(r, &o.Flags)
		default:
			err = r.skip()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func decodeFlags(r *reader, f *Flags) error {
	if c, err := r.peek(); err != nil || c&0xf0 != 0x80 && c != 0xde && c != 0xdf {
		return r.skip() // null or anything else: no flags
	}
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	for range n {
		key, ok, err := mapKey(r)
		if err != nil {
			return err
		}
		var v []byte
		if v, err = rawValue(r); err != nil {
			return err
		}
		if !ok {
			continue
		}
		switch key {
		case "volatile":
			f.Volatile = truthy(v)
		case "compress":
			f.Compress = truthy(v)
		case "expectSingleResponse":
			f.ExpectSingleResponse = truthy(v)
		case "timeout":
			rr := reader{b: v}
			if t, err := rr.number(); err == nil && t > 0 {
				f.Timeout = int64(t)
			}
		}
	}
	return nil
}

// rawValue returns the bytes of the next value.
func rawValue(r *reader) ([]byte, error) {
	start := r.off
	if err := r.skip(); err != nil {
		return nil, err
	}
	return r.b[start:r.off], nil
}

// truthy reports whether a flag value is JavaScript-truthy enough to count:
// true or a non-zero number.
func truthy(v []byte) bool {
	if len(v) == 1 && v[0] == 0xc3 {
		return true
	}
	r := reader{b: v}
	f, err := r.number()
	return err == nil && f != 0
}

// mapKey reads a map key; ok is false (and the key consumed) when it is
// not a string.
func mapKey(r *reader) (key string, ok bool, err error) {
	c, err := r.peek()
	if err != nil {
		return "", false, err
	}
	if c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb {
		key, err = r.str()
		return key, err == nil, err
	}
	return "", false, r.skip()
}

// jsString reads a value as the string a JavaScript room name or id would
// be: a string as is, a number as String(n) does, other scalars by name.
func jsString(r *reader) (string, error) {
	c, err := r.peek()
	if err != nil {
		return "", err
	}
	switch {
	case c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb:
		return r.str()
	case c == 0xc0:
		r.off++
		return "null", nil
	case c == 0xc2:
		r.off++
		return "false", nil
	case c == 0xc3:
		r.off++
		return "true", nil
	}
	start := r.off
	if f, err := r.number(); err == nil {
		return string(appendJSNumber(nil, f, true)), nil
	}
	r.off = start
	return "", r.skip()
}

func stringList(r *reader) ([]string, error) {
	if c, err := r.peek(); err == nil && c == 0xc0 {
		r.off++
		return nil, nil
	}
	n, err := r.arrayLen()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, n)
	for range n {
		s, err := jsString(r)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// jsonString is a string JSON value as the string a JavaScript room name
// would be (see jsString).
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return string(appendJSNumber(nil, f, true))
	}
	return strings.TrimSpace(string(raw))
}

func jsonStrings(raws []json.RawMessage) []string {
	if raws == nil {
		return nil
	}
	out := make([]string, len(raws))
	for i, r := range raws {
		out[i] = jsonString(r)
	}
	return out
}

// appendJSONStrings appends a JSON array of strings (never null).
func appendJSONStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, []byte(s))
	}
	return append(dst, ']')
}

// appendJSONOpts appends {"rooms":[...],"except":[...]}: the opts of JSON
// requests, which carry no flags.
func appendJSONOpts(dst []byte, o *Opts) []byte {
	dst = append(dst, `{"rooms":`...)
	dst = appendJSONStrings(dst, o.Rooms)
	dst = append(dst, `,"except":`...)
	dst = appendJSONStrings(dst, o.Except)
	return append(dst, '}')
}

func appendJSONKey(dst []byte, first bool, key string) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func appendJSONInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }
