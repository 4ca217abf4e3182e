package engineio

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
)

// requestRecord is what a session keeps of the request that opened it. A
// session may live for days, and kept as net/http parsed it (the Request,
// its header map with a slice and a string per value, its URL) the request
// was a quarter of an idle session's memory; as a few strings it is a
// third of that. Session.Request rebuilds an *http.Request when asked,
// which Socket.IO does at most once per socket. Neither the body nor the
// context is kept: they hold the connection's buffers.
type requestRecord struct {
	method, proto    string
	uri              string // RequestURI, as the request line had it
	url              string // URL.RequestURI(): differs if a middleware rewrote URL
	host, remoteAddr string
	header           string // "Name: value\r\n" for each value
	tls              *tls.ConnectionState
}

func recordRequest(r *http.Request) requestRecord {
	n := 0
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	var b strings.Builder
	b.Grow(n)
	for k, vs := range r.Header {
		for _, v := range vs {
			// net/http refuses CR and LF in names and values, and a name
			// holds no colon: each line splits back at its first ": ".
			b.WriteString(k)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteString("\r\n")
		}
	}
	target := r.URL.RequestURI()
	if target == r.RequestURI {
		target = r.RequestURI // one string kept, not two equal ones
	}
	return requestRecord{
		method:     r.Method,
		uri:        r.RequestURI,
		url:        target,
		proto:      r.Proto,
		host:       r.Host,
		remoteAddr: r.RemoteAddr,
		header:     b.String(),
		tls:        r.TLS,
	}
}

func (rec *requestRecord) rebuild() *http.Request {
	u, err := url.ParseRequestURI(rec.url)
	if err != nil { // it was parsed once already: not expected
		u = &url.URL{Path: "/"}
	}
	h := make(http.Header)
	for line := range strings.SplitSeq(rec.header, "\r\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			h[k] = append(h[k], v)
		}
	}
	major, minor, ok := http.ParseHTTPVersion(rec.proto)
	if !ok {
		major, minor = 1, 1
	}
	return &http.Request{
		Method:     rec.method,
		URL:        u,
		Proto:      rec.proto,
		ProtoMajor: major,
		ProtoMinor: minor,
		Header:     h,
		Body:       http.NoBody,
		Host:       rec.host,
		RemoteAddr: rec.remoteAddr,
		RequestURI: rec.uri,
		TLS:        rec.tls,
	}
}
