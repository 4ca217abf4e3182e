package engineio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/.

// FuzzDecodePayload checks decodePayload on arbitrary polling bodies: it never
// panics, rejects only with ErrInvalidPacket, yields one packet per record,
// stops at the first error its visitor returns, and what it accepts survives
// encodePayload and a second decode unchanged.
func FuzzDecodePayload(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		packets, err := decodeAll(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("rejected with %v, want ErrInvalidPacket", err)
			}
			return
		}
		if want := bytes.Count(body, []byte{recordSeparator}) + 1; len(packets) != want {
			t.Fatalf("%d packets from %d records", len(packets), want)
		}
		for i, p := range packets {
			if p.typ > PacketNoop {
				t.Fatalf("packet %d has type %d", i, p.typ)
			}
			if p.binary && p.typ != PacketMessage {
				t.Fatalf("binary packet %d of type %v", i, p.typ)
			}
		}

		// A visitor's error ends the decoding at once and is returned as is.
		stop := errors.New("stop")
		visits := 0
		err = decodePayload(body, func(packet) error {
			visits++
			return stop
		})
		if err != stop || visits != 1 {
			t.Fatalf("visitor error: got %v after %d visits", err, visits)
		}

		// Round trip through the encoder.
		enc := encodePayload(framesOf(packets))
		if len(enc) != cap(enc) {
			t.Fatalf("encodePayload sized %d bytes for %d", cap(enc), len(enc))
		}
		again, err := decodeAll(enc)
		if err != nil {
			t.Fatalf("re-decoding %q (from %q): %v", enc, body, err)
		}
		if !equalPackets(packets, again) {
			t.Fatalf("round trip changed %v into %v (via %q)", packets, again, enc)
		}
		// The encoding is canonical: a second trip gives the same bytes.
		if enc2 := encodePayload(framesOf(again)); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable: %q then %q", enc, enc2)
		}
	})
}

// FuzzDecodeText checks decodeText against the grammar (a type digit and any
// payload), its round trip through controlFrame, and that decodePayload reads
// a single text record the same way.
func FuzzDecodeText(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodeText(b)
		valid := len(b) > 0 && b[0] >= '0' && b[0] <= '6'
		if err != nil {
			if valid || !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("decodeText(%q) = %v", b, err)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted %q", b)
		}
		if p.binary || p.typ.String() == "invalid" || !bytes.Equal(p.data, b[1:]) {
			t.Fatalf("decodeText(%q) = %+v", b, p)
		}
		if f := controlFrame(p.typ, string(p.data)); !bytes.Equal(f.Data, b) || f.Binary {
			t.Fatalf("re-encoded %q as %q", b, f.Data)
		}
		if bytes.IndexByte(b, recordSeparator) < 0 {
			got, err := decodeAll(b)
			if err != nil || len(got) != 1 || !equalPackets(got, []packet{p}) {
				t.Fatalf("decodePayload(%q) = %v, %v; decodeText gave %+v", b, got, err, p)
			}
		}
	})
}

func decodeAll(body []byte) ([]packet, error) {
	var out []packet
	err := decodePayload(body, func(p packet) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

// framesOf re-encodes decoded packets as the server's writers would.
func framesOf(packets []packet) []Frame {
	frames := make([]Frame, len(packets))
	for i, p := range packets {
		if p.binary {
			frames[i] = Frame{Data: p.data, Binary: true}
		} else {
			frames[i] = controlFrame(p.typ, string(p.data))
		}
	}
	return frames
}

func equalPackets(a, b []packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].typ != b[i].typ || a[i].binary != b[i].binary || !bytes.Equal(a[i].data, b[i].data) {
			return false
		}
	}
	return true
}

// FuzzPollingRequest sends one arbitrary polling request (query, method,
// Content-Type, body) to a real Server over HTTP, next to a real session whose
// id replaces "SID" in the query. In the query, "cors=1" turns CORS on, "deny"
// makes AllowRequest refuse and "chunked=1" sends the body without a
// Content-Length. It checks that the server answers with a status of the
// protocol and a well-formed body, leaves the session alone when the request
// does not name it, serves a fresh handshake afterwards, and leaves no handler
// running and no session open: each input gets a Server of its own, shut down
// at its end, behind one shared HTTP server.
func FuzzPollingRequest(f *testing.F) {
	var (
		cur      atomic.Pointer[Server]
		inflight atomic.Int64
		panicked atomic.Pointer[string]
	)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Add(-1)
		defer func() {
			if v := recover(); v != nil {
				msg := fmt.Sprintf("%v\n%s", v, debug.Stack())
				panicked.Store(&msg)
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		cur.Load().ServeHTTP(w, r)
	}))
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	f.Cleanup(func() {
		client.CloseIdleConnections()
		hs.Close()
	})
	base := hs.URL + "/engine.io/?"
	logger := slog.New(slog.DiscardHandler)

	f.Fuzz(func(t *testing.T, query, method, contentType string, body []byte) {
		query, method, contentType, ok := sanitizeRequest(query, method, contentType)
		if !ok {
			return
		}
		opts := Options{
			MaxBufferSize: 256,
			Logger:        logger,
			AllowRequest: func(r *http.Request) error {
				if strings.Contains(r.URL.RawQuery, "deny") {
					return errors.New("denied \"by\" the test")
				}
				return nil
			},
		}
		if strings.Contains(query, "cors=1") {
			opts.CORS = &CORSOptions{}
		}
		srv := NewServer(opts, func(*Session) Receiver { return nopReceiver{} })
		cur.Store(srv)
		defer func() {
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // close what is left at once
			srv.Shutdown(ctx)
			if n := srv.Count(); n != 0 {
				t.Fatalf("%d sessions open after Shutdown", n)
			}
		}()

		sid := fuzzHandshake(t, client, base)
		// Something queued, so that a GET naming the session answers at once.
		if err := srv.Session(sid).Send(TextMessage([]byte("queued"))); err != nil {
			t.Fatal(err)
		}
		query = strings.ReplaceAll(query, "SID", sid)

		var rbody io.Reader = bytes.NewReader(body)
		if strings.Contains(query, "chunked=1") {
			rbody = io.MultiReader(rbody) // no length: sent chunked
		}
		req, err := http.NewRequest(method, base+query, rbody)
		if err != nil {
			return // not a request a client can send
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s ?%s: %v", method, query, err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("%s ?%s: reading the response: %v", method, query, err)
		}
		if p := panicked.Swap(nil); p != nil {
			t.Fatalf("%s ?%s panicked: %s", method, query, *p)
		}
		checkResponse(t, method, query, res, got)

		if !strings.Contains(query, sid) && srv.Session(sid) == nil {
			t.Fatalf("%s ?%s closed a session it did not name", method, query)
		}
		fuzzHandshake(t, client, base)

		deadline := time.Now().Add(5 * time.Second)
		for inflight.Load() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s ?%s: a handler is still running", method, query)
			}
			time.Sleep(50 * time.Microsecond)
		}
	})
}

// sanitizeRequest makes the fuzzer's strings into what a well-behaved HTTP
// client sends, so that the answers come from the Server and not from net/http
// refusing the request line: the query is percent-encoded where the wire
// needs it, the method is upper-case letters (others become a common
// method), the header value holds no controls.
func sanitizeRequest(query, method, contentType string) (string, string, string, bool) {
	const hex = "0123456789ABCDEF"
	if len(query) > 2048 || len(method) > 16 || len(contentType) > 256 {
		return "", "", "", false
	}
	var q strings.Builder
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c <= ' ' || c >= 0x7f || c == '#' {
			q.WriteByte('%')
			q.WriteByte(hex[c>>4])
			q.WriteByte(hex[c&15])
		} else {
			q.WriteByte(c)
		}
	}
	for i := 0; i < len(method); i++ {
		if c := method[i]; c < 'A' || c > 'Z' {
			// Not a method a client sends: pick a real one instead, so
			// that the input is not wasted.
			method = fuzzMethods[(len(method)+int(c))%len(fuzzMethods)]
			break
		}
	}
	if method == "" {
		method = http.MethodGet
	}
	if method == http.MethodConnect {
		return "", "", "", false // a tunnel, not a request to the handler
	}
	for i := 0; i < len(contentType); i++ {
		if c := contentType[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return "", "", "", false
		}
	}
	return q.String(), method, contentType, true
}

var fuzzMethods = []string{
	http.MethodGet, http.MethodPost, http.MethodHead, http.MethodOptions,
	http.MethodPut, http.MethodDelete, http.MethodPatch,
}

// fuzzHandshake opens a polling session and returns its id.
func fuzzHandshake(t *testing.T, client *http.Client, base string) string {
	t.Helper()
	res, err := client.Get(base + "EIO=4&transport=polling")
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var open struct{ SID string }
	if res.StatusCode != http.StatusOK || len(b) == 0 || b[0] != '0' || json.Unmarshal(b[1:], &open) != nil || open.SID == "" {
		t.Fatalf("handshake: %d %q", res.StatusCode, b)
	}
	return open.SID
}

// checkResponse checks the status and body of the answer to a fuzzed request.
func checkResponse(t *testing.T, method, query string, res *http.Response, body []byte) {
	t.Helper()
	head := method == http.MethodHead
	switch res.StatusCode {
	case http.StatusOK:
		if head {
			return
		}
		if method == http.MethodPost {
			if string(body) != "ok" {
				t.Fatalf("POST ?%s: 200 %q", query, body)
			}
			return
		}
		if _, err := decodeAll(body); err != nil {
			t.Fatalf("%s ?%s: 200 with a payload that does not decode: %q", method, query, body)
		}
	case http.StatusNoContent:
		if method != http.MethodOptions {
			t.Fatalf("%s ?%s: 204", method, query)
		}
	case http.StatusRequestEntityTooLarge:
		if method != http.MethodPost {
			t.Fatalf("%s ?%s: 413", method, query)
		}
	case http.StatusBadRequest, http.StatusForbidden:
		if head {
			return
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s ?%s: %d with Content-Type %q", method, query, res.StatusCode, ct)
		}
		var e struct {
			Code    *int    `json:"code"`
			Message *string `json:"message"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil || dec.More() || e.Code == nil || e.Message == nil ||
			*e.Code < codeUnknownTransport || *e.Code > codeUnsupportedVersion || *e.Message == "" ||
			(*e.Code == codeForbidden) != (res.StatusCode == http.StatusForbidden) {
			t.Fatalf("%s ?%s: %d with body %q", method, query, res.StatusCode, body)
		}
	default:
		t.Fatalf("%s ?%s: status %d, body %q", method, query, res.StatusCode, body)
	}
}

type nopReceiver struct{}

func (nopReceiver) OnMessage([]byte, bool) {}
func (nopReceiver) OnClose(Reason, error)  {}
