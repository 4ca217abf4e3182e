package engineio_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"go.uber.org/goleak"

	"github.com/roomcast/roomcast/engineio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// event is what a recorder saw on one session.
type event struct {
	sid    string
	data   string
	binary bool
	closed bool
	reason engineio.Reason
	err    error
}

// recorder is a Receiver factory that echoes (when echo is set) and records
// every message and close.
type recorder struct {
	echo     bool
	events   chan event
	mu       sync.Mutex
	sessions map[string]*engineio.Session
}

func newRecorder(echo bool) *recorder {
	return &recorder{echo: echo, events: make(chan event, 1024), sessions: map[string]*engineio.Session{}}
}

type recv struct {
	r *recorder
	s *engineio.Session
}

func (r *recorder) open(s *engineio.Session) engineio.Receiver {
	r.mu.Lock()
	r.sessions[s.ID()] = s
	r.mu.Unlock()
	return recv{r, s}
}

// session returns the session id. A client can read its open packet a
// moment before the server has told the receiver of the session: it waits
// for that moment, and returns nil if the session never comes.
func (r *recorder) session(id string) *engineio.Session {
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		r.mu.Lock()
		s := r.sessions[id]
		r.mu.Unlock()
		if s != nil || time.Now().After(deadline) {
			return s
		}
	}
}

func (v recv) OnMessage(data []byte, binary bool) {
	v.r.events <- event{sid: v.s.ID(), data: string(data), binary: binary}
	if v.r.echo {
		if binary {
			v.s.Send(engineio.BinaryMessage(data))
		} else {
			v.s.Send(engineio.TextMessage(data))
		}
	}
}

func (v recv) OnClose(reason engineio.Reason, err error) {
	v.r.events <- event{sid: v.s.ID(), closed: true, reason: reason, err: err}
}

// waitClose waits for the close of session sid and returns its reason.
func (r *recorder) waitClose(t *testing.T, sid string) event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-r.events:
			if e.sid == sid && e.closed {
				return e
			}
		case <-deadline:
			t.Fatalf("session %s did not close", sid)
		}
	}
}

func (r *recorder) waitMessage(t *testing.T) event {
	t.Helper()
	for {
		select {
		case e := <-r.events:
			if !e.closed {
				return e
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no message")
		}
	}
}

// harness is a server under test with raw send/expect helpers.
type harness struct {
	t    *testing.T
	srv  *engineio.Server
	http *httptest.Server
	rec  *recorder
	url  string // http://host/engine.io/
}

func newHarness(t *testing.T, opts engineio.Options, echo bool) *harness {
	t.Helper()
	rec := newRecorder(echo)
	srv := engineio.NewServer(opts, rec.open)
	hs := httptest.NewServer(srv)
	h := &harness{t: t, srv: srv, http: hs, rec: rec, url: hs.URL + "/engine.io/"}
	t.Cleanup(func() {
		// Idle polling sessions wait for a GET that never comes: bound it.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		srv.Shutdown(ctx)
		hs.CloseClientConnections()
		hs.Close()
		http.DefaultClient.CloseIdleConnections()
	})
	return h
}

// do sends a request and returns status and body.
func (h *harness) do(method, query, body string) (int, string, http.Header) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+"?"+query, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t *testing.T, s string) (openPacket, map[string]json.RawMessage) {
	t.Helper()
	if !strings.HasPrefix(s, "0") {
		t.Fatalf("open packet %q does not start with 0", s)
	}
	var o openPacket
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s[1:]), &o); err != nil {
		t.Fatalf("open packet %q: %v", s, err)
	}
	json.Unmarshal([]byte(s[1:]), &keys)
	return o, keys
}

// openPolling opens a polling session and returns its sid.
func (h *harness) openPolling() string {
	h.t.Helper()
	code, body, _ := h.do("GET", "EIO=4&transport=polling", "")
	if code != 200 {
		h.t.Fatalf("handshake: %d %s", code, body)
	}
	o, _ := parseOpen(h.t, body)
	return o.SID
}

// openProbe opens a session over polling and a WebSocket for its upgrade,
// which it returns with the session id.
func (h *harness) openProbe() (*wsClient, string) {
	h.t.Helper()
	sid := h.openPolling()
	c, err := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	if err != nil {
		h.t.Fatal(err)
	}
	return c, sid
}

// openWS opens a session over WebSocket and returns it with its id.
func (h *harness) openWS() (*wsClient, string) {
	h.t.Helper()
	c, err := h.dialWS("EIO=4&transport=websocket")
	if err != nil {
		h.t.Fatal(err)
	}
	msg, _, err := c.read()
	if err != nil {
		h.t.Fatal(err)
	}
	o, _ := parseOpen(h.t, msg)
	return c, o.SID
}

func (h *harness) poll(sid string) (int, string) {
	h.t.Helper()
	code, body, _ := h.do("GET", "EIO=4&transport=polling&sid="+sid, "")
	return code, body
}

func (h *harness) post(sid, body string) (int, string) {
	h.t.Helper()
	code, b, _ := h.do("POST", "EIO=4&transport=polling&sid="+sid, body)
	return code, b
}

// wsClient is a raw WebSocket client.
type wsClient struct {
	t    *testing.T
	conn net.Conn
	rw   io.ReadWriter // conn, read through what the handshake left buffered
}

func (h *harness) dialWS(query string) (*wsClient, error) {
	u := "ws" + strings.TrimPrefix(h.url, "http") + "?" + query
	conn, br, _, err := ws.Dial(context.Background(), u)
	if err != nil {
		return nil, err
	}
	c := &wsClient{t: h.t, conn: conn, rw: conn}
	if br != nil {
		c.rw = struct {
			io.Reader
			io.Writer
		}{io.MultiReader(br, conn), conn}
	}
	h.t.Cleanup(func() { conn.Close() })
	return c, nil
}

func (c *wsClient) sendText(s string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.conn, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	if err := wsutil.WriteClientBinary(c.conn, b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next data message, or an error when the connection ends.
func (c *wsClient) read() (string, ws.OpCode, error) {
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, op, err := wsutil.ReadServerData(c.rw)
	return string(b), op, err
}

// readWithin reads a message that must arrive within d.
func (c *wsClient) readWithin(d time.Duration) (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(d))
	b, _, err := wsutil.ReadServerData(c.rw)
	return string(b), err
}

func (c *wsClient) expect(want string) {
	c.t.Helper()
	got, _, err := c.read()
	if err != nil {
		c.t.Fatalf("want %q: %v", want, err)
	}
	if got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}
