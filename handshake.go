package roomcast

import (
	"encoding/json"
	"net"
	"strings"
	"time"

	"github.com/roomcast/roomcast/adapter"
)

// Handshake describes how a socket connected: the HTTP request that opened
// its connection and the auth payload of its CONNECT packet. Its fields have
// the shape of the Node.js server's socket.handshake (header names in lower
// case; Auth exactly as the client sent it, {} when it sent none).
type Handshake = adapter.Handshake

// jsTimeLayout is how the Node.js server writes the handshake time
// (Date.prototype.toString).
const jsTimeLayout = "Mon Jan 02 2006 15:04:05 GMT-0700"

func newHandshake(c *client, auth json.RawMessage) *Handshake {
	r := c.conn.Request()
	headers := make(map[string]string, len(r.Header)+1)
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	query := make(map[string]string)
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			query[k] = v[0]
		}
	}
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	now := c.created
	return &Handshake{
		Headers: headers,
		Time:    now.Format(jsTimeLayout) + " (" + zoneName(now) + ")",
		Address: addr,
		XDomain: r.Header.Get("Origin") != "",
		Secure:  r.TLS != nil,
		Issued:  now.UnixMilli(),
		URL:     r.URL.RequestURI(),
		Query:   query,
		Auth:    auth,
	}
}

func zoneName(t time.Time) string {
	name, _ := t.Zone()
	if name == "UTC" {
		return "Coordinated Universal Time"
	}
	return name
}
