package wire

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
)

// The messages of socket.io-adapter's ClusterAdapter (2.5.x), which the
// sharded Redis adapter (createShardedAdapter of @socket.io/redis-adapter
// 8.2+) exchanges over SPUBLISH/SSUBSCRIBE. Every message is one object
// {type, data, uid, nsp}; its numbering differs from the classic protocol's.

// MessageType is the type code of a ClusterAdapter message.
type MessageType int

// The ClusterAdapter message types.
const (
	ClusterInitialHeartbeat     MessageType = 1 // heartbeat variant only
	ClusterHeartbeat            MessageType = 2 // heartbeat variant only
	ClusterBroadcast            MessageType = 3 // with RequestID: a broadcast with acks
	ClusterSocketsJoin          MessageType = 4
	ClusterSocketsLeave         MessageType = 5
	ClusterDisconnectSockets    MessageType = 6
	ClusterFetchSockets         MessageType = 7
	ClusterFetchSocketsResponse MessageType = 8
	ClusterServerSideEmit       MessageType = 9 // with RequestID: replies wanted
	ClusterServerSideEmitResp   MessageType = 10
	ClusterBroadcastClientCount MessageType = 11
	ClusterBroadcastAck         MessageType = 12
	ClusterAdapterClose         MessageType = 13 // heartbeat variant only
)

// IsResponse reports whether t is the type of a response, which goes to
// the requester alone.
func (t MessageType) IsResponse() bool {
	switch t {
	case ClusterFetchSocketsResponse, ClusterServerSideEmitResp, ClusterBroadcastClientCount, ClusterBroadcastAck:
		return true
	}
	return false
}

// Message is a ClusterAdapter message or response. Which data fields
// matter depends on Type:
//
//	3  Broadcast             Packet, Opts, RequestID (acks wanted)
//	4  SocketsJoin           Opts, Rooms
//	5  SocketsLeave          Opts, Rooms
//	6  DisconnectSockets     Opts, Close
//	7  FetchSockets          Opts, RequestID
//	8  FetchSocketsResponse  RequestID, Sockets
//	9  ServerSideEmit        Data ([event, ...args]), RequestID (replies wanted)
//	10 ServerSideEmitResp    RequestID, Data (the reply's value)
//	11 BroadcastClientCount  RequestID, ClientCount
//	12 BroadcastAck          RequestID, Data (the ack's value)
type Message struct {
	Type MessageType
	UID  string // the sender
	Nsp  string // the namespace

	RequestID string
	// Packet is a broadcast's packet; its Nsp is not sent (the message's is).
	Packet *Packet
	// Opts select the sockets; a missing "flags" decodes as no flags.
	Opts *Opts
	// Rooms are the rooms to join or leave.
	Rooms []string
	// Close closes the whole connection of disconnected sockets.
	Close bool
	// Data is the "packet" of types 9, 10 and 12 as JSON, with Attachments
	// for its binary values; nil when it is undefined (an ack without arguments).
	Data        json.RawMessage
	Attachments [][]byte
	// Sockets is the JSON array of socket descriptions of a response to
	// FetchSockets (see EncodeSockets), binary values as Node.js Buffers' JSON.
	Sockets     json.RawMessage
	ClientCount int
}

// AppendMessage appends m as the sharded adapter encodes it: MessagePack
// (notepack.io) when the data of a broadcast, a server-side emit or a
// reply has binary values, JSON otherwise. Keys come in the order Node.js
// writes them: type, data, uid, nsp.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	if m.Type == ClusterBroadcast && m.Packet == nil {
		return nil, ErrMalformed
	}
	if m.hasBinary() {
		return appendMsgpackMessage(dst, m)
	}
	return appendJSONMessage(dst, m), nil
}

func (m *Message) hasBinary() bool {
	switch m.Type {
	case ClusterBroadcast:
		return len(m.Packet.Attachments) > 0
	case ClusterServerSideEmit, ClusterServerSideEmitResp, ClusterBroadcastAck:
		return len(m.Attachments) > 0
	}
	return false
}

// hasData reports whether messages of type t carry "data".
func hasData(t MessageType) bool {
	return t >= ClusterBroadcast && t <= ClusterBroadcastAck
}

func appendJSONMessage(dst []byte, m *Message) []byte {
	dst = appendJSONInt(appendJSONKey(append(dst, '{'), true, "type"), int64(m.Type))
	if hasData(m.Type) {
		dst = append(appendJSONKey(dst, false, "data"), '{')
		dst = m.appendJSONData(dst)
		dst = append(dst, '}')
	}
	dst = appendJSONString(appendJSONKey(dst, false, "uid"), []byte(m.UID))
	dst = appendJSONString(appendJSONKey(dst, false, "nsp"), []byte(m.Nsp))
	return append(dst, '}')
}

// appendJSONData appends the members of data (without braces).
func (m *Message) appendJSONData(dst []byte) []byte {
	requestID := func(dst []byte, first bool) []byte {
		return appendJSONString(appendJSONKey(dst, first, "requestId"), []byte(m.RequestID))
	}
	switch m.Type {
	case ClusterBroadcast:
		dst = append(appendJSONKey(dst, true, "packet"), `{"type":2,"data":`...)
		dst = append(dst, m.Packet.Data...)
		if m.Packet.HasID {
			dst = strconv.AppendUint(appendJSONKey(dst, false, "id"), m.Packet.ID, 10)
		}
		dst = append(dst, '}')
		if m.RequestID != "" {
			dst = requestID(dst, false)
		}
		dst = appendJSONClusterOpts(appendJSONKey(dst, false, "opts"), m.Opts)
	case ClusterSocketsJoin, ClusterSocketsLeave:
		dst = appendJSONClusterOpts(appendJSONKey(dst, true, "opts"), m.Opts)
		dst = appendJSONStrings(appendJSONKey(dst, false, "rooms"), m.Rooms)
	case ClusterDisconnectSockets:
		dst = appendJSONClusterOpts(appendJSONKey(dst, true, "opts"), m.Opts)
		dst = strconv.AppendBool(appendJSONKey(dst, false, "close"), m.Close)
	case ClusterFetchSockets:
		dst = appendJSONClusterOpts(appendJSONKey(dst, true, "opts"), m.Opts)
		dst = requestID(dst, false)
	case ClusterFetchSocketsResponse:
		dst = requestID(dst, true)
		sockets := m.Sockets
		if sockets == nil {
			sockets = json.RawMessage("[]")
		}
		dst = append(appendJSONKey(dst, false, "sockets"), sockets...)
	case ClusterServerSideEmit:
		first := true
		if m.RequestID != "" {
			dst = requestID(dst, true)
			first = false
		}
		dst = append(appendJSONKey(dst, first, "packet"), m.Data...)
	case ClusterServerSideEmitResp, ClusterBroadcastAck:
		dst = requestID(dst, true)
		if m.Data != nil { // JSON.stringify leaves out an undefined value
			dst = append(appendJSONKey(dst, false, "packet"), m.Data...)
		}
	case ClusterBroadcastClientCount:
		dst = requestID(dst, true)
		dst = appendJSONInt(appendJSONKey(dst, false, "clientCount"), int64(m.ClientCount))
	}
	return dst
}

// appendJSONClusterOpts appends {"rooms":[...],"except":[...],"flags":{...}}.
func appendJSONClusterOpts(dst []byte, o *Opts) []byte {
	if o == nil {
		o = &Opts{}
	}
	dst = append(dst, `{"rooms":`...)
	dst = appendJSONStrings(dst, o.Rooms)
	dst = append(dst, `,"except":`...)
	dst = appendJSONStrings(dst, o.Except)
	dst = append(dst, `,"flags":{`...)
	first := true
	flag := func(key string) {
		dst = appendJSONKey(dst, first, key)
		first = false
	}
	if o.Flags.Volatile {
		flag("volatile")
		dst = append(dst, "true"...)
	}
	if o.Flags.Compress {
		flag("compress")
		dst = append(dst, "true"...)
	}
	if o.Flags.Timeout > 0 {
		flag("timeout")
		dst = appendJSONInt(dst, o.Flags.Timeout)
	}
	if o.Flags.ExpectSingleResponse {
		flag("expectSingleResponse")
		dst = append(dst, "true"...)
	}
	return append(dst, "}}"...)
}

func appendMsgpackMessage(dst []byte, m *Message) ([]byte, error) {
	dst = appendMapHeader(dst, 4)
	dst = appendInt(appendStr(dst, "type"), int64(m.Type))
	dst = appendStr(dst, "data")
	var err error
	switch m.Type {
	case ClusterBroadcast:
		n := 2
		if m.RequestID != "" {
			n++
		}
		dst = appendMapHeader(dst, n)
		pn := 2
		if m.Packet.HasID {
			pn++
		}
		dst = appendMapHeader(appendStr(dst, "packet"), pn)
		dst = appendUint(appendStr(dst, "type"), 2)
		if dst, err = AppendMsgpack(appendStr(dst, "data"), m.Packet.Data, m.Packet.Attachments); err != nil {
			return nil, err
		}
		if m.Packet.HasID {
			dst = appendUint(appendStr(dst, "id"), m.Packet.ID)
		}
		if m.RequestID != "" {
			dst = appendStr(appendStr(dst, "requestId"), m.RequestID)
		}
		opts := m.Opts
		if opts == nil {
			opts = &Opts{}
		}
		dst = appendOpts(appendStr(dst, "opts"), opts, false, true)
	default: // 9, 10, 12: requestId, packet
		n := 1
		if m.RequestID != "" {
			n++
		}
		dst = appendMapHeader(dst, n)
		if m.RequestID != "" {
			dst = appendStr(appendStr(dst, "requestId"), m.RequestID)
		}
		if dst, err = AppendMsgpack(appendStr(dst, "packet"), m.Data, m.Attachments); err != nil {
			return nil, err
		}
	}
	dst = appendStr(appendStr(dst, "uid"), m.UID)
	return appendStr(appendStr(dst, "nsp"), m.Nsp), nil
}

// DecodeMessage decodes a message of the sharded adapter, JSON or
// MessagePack (told apart by the first byte, '{' being JSON). Binary
// values of a broadcast's packet, a server-side emit or a reply become
// placeholders and attachments; in socket descriptions, Buffers' JSON.
func DecodeMessage(b []byte) (*Message, error) {
	if len(b) > 0 && b[0] == '{' {
		return decodeJSONMessage(b)
	}
	return decodeMsgpackMessage(b)
}

func decodeMsgpackMessage(b []byte) (*Message, error) {
	r := reader{b: b}
	n, err := r.mapLen()
	if err != nil {
		return nil, err
	}
	m := &Message{Type: -1}
	var data []byte
	for range n {
		key, ok, err := mapKey(&r)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
			err = r.skip()
		case key == "type":
			var t float64
			t, err = r.number()
			m.Type = MessageType(t)
		case key == "data":
			data, err = rawValue(&r)
		case key == "uid":
			m.UID, err = jsString(&r)
		case key == "nsp":
			m.Nsp, err = jsString(&r)
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if !r.done() || m.Type < 0 {
		return nil, ErrMalformed
	}
	if data != nil && hasData(m.Type) {
		if err := m.decodeMsgpackData(data); err != nil {
			return nil, err
		}
	}
	return m, m.check()
}

func (m *Message) decodeMsgpackData(b []byte) error {
	r := reader{b: b}
	if c, err := r.peek(); err != nil || c&0xf0 != 0x80 && c != 0xde && c != 0xdf {
		return ErrMalformed
	}
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	for range n {
		key, ok, err := mapKey(&r)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			err = r.skip()
		case key == "packet" && m.Type == ClusterBroadcast:
			m.Packet = &Packet{}
			err = decodePacket(&r, m.Packet)
		case key == "packet":
			var v []byte
			if v, err = rawValue(&r); err == nil {
				m.Data, m.Attachments, err = ToJSON(v)
			}
		case key == "opts":
			m.Opts = &Opts{}
			err = decodeOpts(&r, m.Opts)
		case key == "requestId":
			m.RequestID, err = jsString(&r)
		case key == "rooms":
			m.Rooms, err = stringList(&r)
		case key == "close":
			var v []byte
			v, err = rawValue(&r)
			m.Close = len(v) == 1 && v[0] == 0xc3
		case key == "clientCount":
			var c float64
			c, err = r.number()
			m.ClientCount = int(c)
		case key == "sockets":
			var v []byte
			if v, err = rawValue(&r); err == nil {
				m.Sockets, err = ToJSONBuffers(v)
			}
		default:
			err = r.skip()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// jsonClusterOpts is the opts object of a JSON message.
type jsonClusterOpts struct {
	Rooms  []json.RawMessage `json:"rooms"`
	Except []json.RawMessage `json:"except"`
	Flags  struct {
		Volatile             any      `json:"volatile"`
		Compress             any      `json:"compress"`
		Timeout              *float64 `json:"timeout"`
		ExpectSingleResponse any      `json:"expectSingleResponse"`
	} `json:"flags"`
}

func decodeJSONMessage(b []byte) (*Message, error) {
	var raw struct {
		Type *float64        `json:"type"`
		UID  json.RawMessage `json:"uid"`
		Nsp  json.RawMessage `json:"nsp"`
		Data struct {
			Packet      json.RawMessage   `json:"packet"`
			Opts        *jsonClusterOpts  `json:"opts"`
			RequestID   json.RawMessage   `json:"requestId"`
			Rooms       []json.RawMessage `json:"rooms"`
			Close       any               `json:"close"`
			ClientCount float64           `json:"clientCount"`
			Sockets     json.RawMessage   `json:"sockets"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &raw); err != nil || raw.Type == nil {
		return nil, ErrMalformed
	}
	d := &raw.Data
	m := &Message{Type: MessageType(*raw.Type), Rooms: jsonStrings(d.Rooms), Sockets: d.Sockets,
		ClientCount: int(d.ClientCount)}
	if raw.UID != nil {
		m.UID = jsonString(raw.UID)
	}
	if raw.Nsp != nil {
		m.Nsp = jsonString(raw.Nsp)
	}
	if d.RequestID != nil && string(d.RequestID) != "null" {
		m.RequestID = jsonString(d.RequestID)
	}
	m.Close, _ = d.Close.(bool)
	if o := d.Opts; o != nil {
		m.Opts = &Opts{Rooms: jsonStrings(o.Rooms), Except: jsonStrings(o.Except)}
		f := &m.Opts.Flags
		f.Volatile, f.Compress, f.ExpectSingleResponse = jsTruthy(o.Flags.Volatile), jsTruthy(o.Flags.Compress), jsTruthy(o.Flags.ExpectSingleResponse)
		if o.Flags.Timeout != nil && *o.Flags.Timeout > 0 {
			f.Timeout = int64(*o.Flags.Timeout)
		}
	}
	if m.Type == ClusterBroadcast {
		if d.Packet == nil {
			return nil, ErrMalformed
		}
		var p struct {
			Type *float64        `json:"type"`
			Data json.RawMessage `json:"data"`
			ID   *float64        `json:"id"`
		}
		if err := json.Unmarshal(d.Packet, &p); err != nil || p.Data == nil || p.Type != nil && *p.Type != 2 && *p.Type != 5 {
			return nil, ErrMalformed
		}
		m.Packet = &Packet{Data: p.Data, Nsp: m.Nsp}
		if p.ID != nil && *p.ID >= 0 {
			m.Packet.ID, m.Packet.HasID = uint64(*p.ID), true
		}
	} else {
		m.Data = d.Packet
	}
	return m, m.check()
}

// check refuses a message whose type needs data it lacks.
func (m *Message) check() error {
	switch m.Type {
	case ClusterBroadcast:
		if m.Packet == nil || m.Opts == nil {
			return ErrMalformed
		}
	case ClusterSocketsJoin, ClusterSocketsLeave, ClusterDisconnectSockets, ClusterFetchSockets:
		if m.Opts == nil {
			return ErrMalformed
		}
	case ClusterServerSideEmit:
		if len(m.Data) == 0 || m.Data[0] != '[' {
			return ErrMalformed
		}
	}
	if m.Packet != nil {
		m.Packet.Nsp = m.Nsp
	}
	return nil
}

// jsTruthy reports whether a decoded JSON flag counts as set: true or a
// non-zero number.
func jsTruthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case float64:
		return x != 0
	}
	return false
}

// JSLength returns the length JavaScript gives s (UTF-16 code units): the
// sharded adapter treats a room whose name is 20 long as a socket id.
func JSLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
