package wire

import (
	"encoding/json"
	"strings"

	"github.com/roomcast/roomcast/adapter"
)

// The socket descriptions of a RemoteFetch response:
// [{id, handshake, rooms, data}], handshake as the Node.js server's
// socket.handshake (headers, time, address, xdomain, secure, issued, url,
// query, auth).

// jsonSocket is one description as it is written.
type jsonSocket struct {
	ID        string             `json:"id"`
	Handshake *adapter.Handshake `json:"handshake"`
	Rooms     []adapter.Room     `json:"rooms"`
	Data      json.RawMessage    `json:"data"`
}

// EncodeSockets returns the JSON array describing sockets. Missing parts are
// written empty ({} for headers, query, auth and data), since Node.js code
// (the Admin UI, for one) reads them without checking. Data that does not
// marshal is sent as {}.
func EncodeSockets(sockets []adapter.SocketInfo) (json.RawMessage, error) {
	out := make([]jsonSocket, 0, len(sockets))
	for _, s := range sockets {
		hs := adapter.Handshake{}
		if s.Handshake != nil {
			hs = *s.Handshake
		}
		if hs.Headers == nil {
			hs.Headers = map[string]string{}
		}
		if hs.Query == nil {
			hs.Query = map[string]string{}
		}
		if len(hs.Auth) == 0 {
			hs.Auth = json.RawMessage("{}")
		}
		data := json.RawMessage("{}")
		if s.Data != nil {
			if b, err := json.Marshal(s.Data); err == nil {
				data = b
			}
		}
		rooms := s.Rooms
		if rooms == nil {
			rooms = []adapter.Room{}
		}
		out = append(out, jsonSocket{ID: s.ID, Handshake: &hs, Rooms: rooms, Data: data})
	}
	return json.Marshal(out)
}

// DecodeSockets reads the descriptions of a RemoteFetch response. It is
// lenient with what Node.js may send: header or query values that are
// arrays are joined with ", " (headers) or reduced to their first element
// (query), numbers become their text, and a null data is an empty map.
func DecodeSockets(raw json.RawMessage) ([]adapter.SocketInfo, error) {
	var list []struct {
		ID        json.RawMessage   `json:"id"`
		Handshake json.RawMessage   `json:"handshake"`
		Rooms     []json.RawMessage `json:"rooms"`
		Data      map[string]any    `json:"data"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, ErrMalformed
	}
	out := make([]adapter.SocketInfo, 0, len(list))
	for _, s := range list {
		info := adapter.SocketInfo{ID: jsonString(s.ID), Data: s.Data, Handshake: decodeHandshake(s.Handshake)}
		if info.Data == nil {
			info.Data = map[string]any{}
		}
		info.Rooms = make([]adapter.Room, len(s.Rooms))
		for i, r := range s.Rooms {
			info.Rooms[i] = adapter.Room(jsonString(r))
		}
		out = append(out, info)
	}
	return out, nil
}

func decodeHandshake(raw json.RawMessage) *adapter.Handshake {
	var h struct {
		Headers map[string]any  `json:"headers"`
		Time    any             `json:"time"`
		Address any             `json:"address"`
		XDomain bool            `json:"xdomain"`
		Secure  bool            `json:"secure"`
		Issued  float64         `json:"issued"`
		URL     any             `json:"url"`
		Query   map[string]any  `json:"query"`
		Auth    json.RawMessage `json:"auth"`
	}
	hs := &adapter.Handshake{Headers: map[string]string{}, Query: map[string]string{}, Auth: json.RawMessage("{}")}
	if json.Unmarshal(raw, &h) != nil {
		return hs
	}
	for k, v := range h.Headers {
		hs.Headers[k] = anyString(v, ", ")
	}
	for k, v := range h.Query {
		hs.Query[k] = anyString(v, "")
	}
	hs.Time = anyString(h.Time, "")
	hs.Address = anyString(h.Address, "")
	hs.URL = anyString(h.URL, "")
	hs.XDomain, hs.Secure, hs.Issued = h.XDomain, h.Secure, int64(h.Issued)
	if len(h.Auth) > 0 && string(h.Auth) != "null" {
		hs.Auth = h.Auth
	}
	return hs
}

// anyString turns a decoded JSON value into a string: an array joined with
// sep, or its first element when sep is "".
func anyString(v any, sep string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return string(appendJSNumber(nil, x, true))
	case []any:
		if len(x) == 0 {
			return ""
		}
		if sep == "" {
			return anyString(x[0], sep)
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = anyString(e, sep)
		}
		return strings.Join(parts, sep)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
