package wire

import (
	"encoding/json"
	"strconv"
)

// Request is a message of the request channel. Which fields matter depends
// on Type; see AppendRequest for the shape of each.
type Request struct {
	// UID is the sender's uid ("" for the emitter's join/leave/disconnect).
	UID string
	// RequestID is set when the sender waits for responses.
	RequestID string
	Type      RequestType
	// Opts select the sockets (join, leave, disconnect, fetch, broadcast);
	// nil for the legacy single-socket forms of join, leave and disconnect.
	Opts *Opts
	// Rooms are the rooms to join or leave (or, for Sockets, to look in).
	Rooms []string
	// Close closes the whole connection of disconnected sockets.
	Close bool
	// Data is the ServerSideEmit array [event, ...args], with Attachments.
	Data        json.RawMessage
	Attachments [][]byte
	// Packet is the packet of a Broadcast.
	Packet *Packet
	// SID and Room are the legacy single-socket forms' target.
	SID  string
	Room string
}

// AppendRequest appends a request as the Node.js adapter encodes it: a
// Broadcast as a MessagePack map {uid, requestId, type, packet, opts}, all
// others as JSON with keys in the order uid, requestId, type, then
//
//	Sockets:          rooms
//	AllRooms:         -
//	RemoteJoin/Leave: opts {rooms, except}, rooms  (legacy: sid, room)
//	RemoteDisconnect: opts {rooms, except}, close  (legacy: sid, close)
//	RemoteFetch:      opts {rooms, except}
//	ServerSideEmit:   data (binary as {"type":"Buffer","data":[...]})
//
// An empty UID or RequestID is left out.
func AppendRequest(dst []byte, q *Request) ([]byte, error) {
	if q.Type == Broadcast {
		return appendBroadcastRequest(dst, q)
	}
	dst = append(dst, '{')
	first := true
	if q.UID != "" {
		dst = appendJSONString(appendJSONKey(dst, first, "uid"), []byte(q.UID))
		first = false
	}
	if q.RequestID != "" {
		dst = appendJSONString(appendJSONKey(dst, first, "requestId"), []byte(q.RequestID))
		first = false
	}
	dst = appendJSONInt(appendJSONKey(dst, first, "type"), int64(q.Type))
	switch q.Type {
	case Sockets:
		dst = appendJSONStrings(appendJSONKey(dst, false, "rooms"), q.Rooms)
	case RemoteJoin, RemoteLeave, RemoteDisconnect:
		if q.Opts != nil {
			dst = appendJSONOpts(appendJSONKey(dst, false, "opts"), q.Opts)
		} else {
			dst = appendJSONString(appendJSONKey(dst, false, "sid"), []byte(q.SID))
		}
		switch {
		case q.Type == RemoteDisconnect:
			dst = strconv.AppendBool(appendJSONKey(dst, false, "close"), q.Close)
		case q.Opts != nil:
			dst = appendJSONStrings(appendJSONKey(dst, false, "rooms"), q.Rooms)
		default:
			dst = appendJSONString(appendJSONKey(dst, false, "room"), []byte(q.Room))
		}
	case RemoteFetch:
		opts := q.Opts
		if opts == nil {
			opts = &Opts{}
		}
		dst = appendJSONOpts(appendJSONKey(dst, false, "opts"), opts)
	case ServerSideEmit:
		data, err := JSONWithBuffers(q.Data, q.Attachments)
		if err != nil {
			return nil, err
		}
		dst = append(appendJSONKey(dst, false, "data"), data...)
	}
	return append(dst, '}'), nil
}

func appendBroadcastRequest(dst []byte, q *Request) ([]byte, error) {
	if q.Packet == nil {
		return nil, ErrMalformed
	}
	opts := q.Opts
	if opts == nil {
		opts = &Opts{}
	}
	dst = appendMapHeader(dst, 5)
	dst = appendStr(appendStr(dst, "uid"), q.UID)
	dst = appendStr(appendStr(dst, "requestId"), q.RequestID)
	dst = appendInt(appendStr(dst, "type"), int64(q.Type))
	dst, err := appendPacket(appendStr(dst, "packet"), q.Packet)
	if err != nil {
		return nil, err
	}
	return appendOpts(appendStr(dst, "opts"), opts, false, true), nil
}

// DecodeRequest decodes a message of the request channel, JSON or MessagePack.
func DecodeRequest(b []byte) (*Request, error) {
	if len(b) > 0 && b[0] == '{' {
		return decodeJSONRequest(b)
	}
	return decodeMsgpackRequest(b)
}

// jsonOpts is the opts object of a JSON request (flags are never sent, but
// tolerated).
type jsonOpts struct {
	Rooms  []json.RawMessage `json:"rooms"`
	Except []json.RawMessage `json:"except"`
}

func decodeJSONRequest(b []byte) (*Request, error) {
	var raw struct {
		UID       json.RawMessage   `json:"uid"`
		RequestID json.RawMessage   `json:"requestId"`
		Type      *int              `json:"type"`
		Opts      *jsonOpts         `json:"opts"`
		Rooms     []json.RawMessage `json:"rooms"`
		Close     any               `json:"close"`
		Data      json.RawMessage   `json:"data"`
		SID       json.RawMessage   `json:"sid"`
		Room      json.RawMessage   `json:"room"`
	}
	if err := json.Unmarshal(b, &raw); err != nil || raw.Type == nil {
		return nil, ErrMalformed
	}
	q := &Request{Type: RequestType(*raw.Type), Rooms: jsonStrings(raw.Rooms), Data: raw.Data}
	if raw.UID != nil {
		q.UID = jsonString(raw.UID)
	}
	if raw.RequestID != nil && string(raw.RequestID) != "null" {
		q.RequestID = jsonString(raw.RequestID)
	}
	if raw.Opts != nil {
		q.Opts = &Opts{Rooms: jsonStrings(raw.Opts.Rooms), Except: jsonStrings(raw.Opts.Except)}
	}
	q.Close, _ = raw.Close.(bool)
	if raw.SID != nil {
		q.SID = jsonString(raw.SID)
	}
	if raw.Room != nil {
		q.Room = jsonString(raw.Room)
	}
	return q, nil
}

func decodeMsgpackRequest(b []byte) (*Request, error) {
	r := reader{b: b}
	n, err := r.mapLen()
	if err != nil {
		return nil, err
	}
	q := &Request{Type: NoType}
	for range n {
		key, ok, err := mapKey(&r)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
			err = r.skip()
		case key == "uid":
			q.UID, err = jsString(&r)
		case key == "requestId":
			q.RequestID, err = jsString(&r)
		case key == "type":
			var t float64
			t, err = r.number()
			q.Type = RequestType(t)
		case key == "packet":
			q.Packet = &Packet{}
			err = decodePacket(&r, q.Packet)
		case key == "opts":
			q.Opts = &Opts{}
			err = decodeOpts(&r, q.Opts)
		case key == "rooms":
			q.Rooms, err = stringList(&r)
		case key == "close":
			var v []byte
			v, err = rawValue(&r)
			q.Close = len(v) == 1 && v[0] == 0xc3
		case key == "data":
			var v []byte
			if v, err = rawValue(&r); err == nil {
				q.Data, q.Attachments, err = ToJSON(v)
			}
		case key == "sid":
			q.SID, err = jsString(&r)
		case key == "room":
			q.Room, err = jsString(&r)
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if !r.done() || q.Type == NoType {
		return nil, ErrMalformed
	}
	return q, nil
}

// Response is a message of the response channels.
type Response struct {
	// Type is NoType for the responses that have none (Sockets, AllRooms,
	// RemoteFetch, the legacy join/leave/disconnect).
	Type      RequestType
	RequestID string
	// Sockets is the raw JSON array of a Sockets (ids) or RemoteFetch
	// (socket descriptions) response.
	Sockets json.RawMessage
	// Rooms are the rooms of an AllRooms response.
	Rooms       []string
	ClientCount int
	// Data is a ServerSideEmit reply's value (JSON), nil when undefined.
	Data json.RawMessage
	// Packet is a BroadcastAck's value (JSON, nil when undefined), with
	// Attachments for its binary parts; Data's too when encoding.
	Packet      json.RawMessage
	Attachments [][]byte
}

// AppendResponse appends a response as the Node.js adapter encodes it:
// BroadcastAck as a MessagePack map {type, requestId, packet}, the others as
// JSON: {type, requestId, data} for ServerSideEmit, {type, requestId,
// clientCount} for BroadcastClientCount, {requestId, sockets|rooms} for
// the untyped ones.
func AppendResponse(dst []byte, s *Response) ([]byte, error) {
	switch s.Type {
	case BroadcastAck:
		n := 3
		if s.Packet == nil {
			n = 2 // notepack leaves out a key whose value is undefined
		}
		dst = appendMapHeader(dst, n)
		dst = appendInt(appendStr(dst, "type"), int64(s.Type))
		dst = appendStr(appendStr(dst, "requestId"), s.RequestID)
		if s.Packet != nil {
			var err error
			if dst, err = AppendMsgpack(appendStr(dst, "packet"), s.Packet, s.Attachments); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case ServerSideEmit, BroadcastClientCount:
		dst = appendJSONInt(appendJSONKey(append(dst, '{'), true, "type"), int64(s.Type))
		dst = appendJSONString(appendJSONKey(dst, false, "requestId"), []byte(s.RequestID))
		if s.Type == BroadcastClientCount {
			dst = appendJSONInt(appendJSONKey(dst, false, "clientCount"), int64(s.ClientCount))
		} else if s.Data != nil {
			data, err := JSONWithBuffers(s.Data, s.Attachments)
			if err != nil {
				return nil, err
			}
			dst = append(appendJSONKey(dst, false, "data"), data...)
		}
		return append(dst, '}'), nil
	}
	dst = appendJSONString(appendJSONKey(append(dst, '{'), true, "requestId"), []byte(s.RequestID))
	if s.Sockets != nil {
		dst = append(appendJSONKey(dst, false, "sockets"), s.Sockets...)
	}
	if s.Rooms != nil {
		dst = appendJSONStrings(appendJSONKey(dst, false, "rooms"), s.Rooms)
	}
	return append(dst, '}'), nil
}

// DecodeResponse decodes a message of the response channels, JSON or MessagePack.
func DecodeResponse(b []byte) (*Response, error) {
	if len(b) > 0 && b[0] == '{' {
		var raw struct {
			Type        *int              `json:"type"`
			RequestID   json.RawMessage   `json:"requestId"`
			Sockets     json.RawMessage   `json:"sockets"`
			Rooms       []json.RawMessage `json:"rooms"`
			ClientCount float64           `json:"clientCount"`
			Data        json.RawMessage   `json:"data"`
			Packet      json.RawMessage   `json:"packet"`
		}
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, ErrMalformed
		}
		s := &Response{Type: NoType, Sockets: raw.Sockets, Rooms: jsonStrings(raw.Rooms),
			ClientCount: int(raw.ClientCount), Data: raw.Data, Packet: raw.Packet}
		if raw.Type != nil {
			s.Type = RequestType(*raw.Type)
		}
		if raw.RequestID != nil {
			s.RequestID = jsonString(raw.RequestID)
		}
		return s, nil
	}
	r := reader{b: b}
	n, err := r.mapLen()
	if err != nil {
		return nil, err
	}
	s := &Response{Type: NoType}
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
			s.Type = RequestType(t)
		case key == "requestId":
			s.RequestID, err = jsString(&r)
		case key == "clientCount":
			var c float64
			c, err = r.number()
			s.ClientCount = int(c)
		case key == "packet", key == "data":
			var v []byte
			if v, err = rawValue(&r); err != nil {
				break
			}
			var js json.RawMessage
			var atts [][]byte
			if js, atts, err = ToJSON(v); err == nil {
				if key == "packet" {
					s.Packet, s.Attachments = js, atts
				} else {
					s.Data, err = JSONWithBuffers(js, atts)
				}
			}
		case key == "rooms":
			s.Rooms, err = stringList(&r)
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if !r.done() {
		return nil, ErrMalformed
	}
	return s, nil
}
