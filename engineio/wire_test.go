package engineio_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/roomcast/roomcast/engineio"
)

var sidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{20}$`)

func TestHandshakePolling(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	code, body, hdr := h.do("GET", "EIO=4&transport=polling", "")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("content type %q", ct)
	}
	o, keys := parseOpen(t, body)
	if len(keys) != 5 {
		t.Errorf("open packet has keys %v, want exactly 5", keys)
	}
	if !sidPattern.MatchString(o.SID) {
		t.Errorf("sid %q is not 20 URL-safe characters", o.SID)
	}
	if len(o.Upgrades) != 1 || o.Upgrades[0] != "websocket" {
		t.Errorf("upgrades %v", o.Upgrades)
	}
	if o.PingInterval != 25000 || o.PingTimeout != 20000 || o.MaxPayload != 1000000 {
		t.Errorf("defaults %+v", o)
	}
	if h.openPolling() == o.SID {
		t.Error("two sessions got the same sid")
	}
}

func TestHandshakeWebSocket(t *testing.T) {
	h := newHarness(t, engineio.Options{PingInterval: time.Second}, false)
	c, err := h.dialWS("EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	msg, _, err := c.read()
	if err != nil {
		t.Fatal(err)
	}
	o, keys := parseOpen(t, msg)
	if len(keys) != 5 || len(o.Upgrades) != 0 || o.PingInterval != 1000 {
		t.Errorf("open packet %s", msg)
	}
	if _, ok := keys["upgrades"]; !ok || string(keys["upgrades"]) != "[]" {
		t.Errorf("upgrades must be [], got %s", keys["upgrades"])
	}
}

func TestHandshakeNoUpgradesWhenDisabled(t *testing.T) {
	h := newHarness(t, engineio.Options{DisableUpgrades: true}, false)
	_, body, _ := h.do("GET", "EIO=4&transport=polling", "")
	if o, _ := parseOpen(t, body); len(o.Upgrades) != 0 {
		t.Errorf("upgrades %v with DisableUpgrades", o.Upgrades)
	}
}

func TestRequestErrors(t *testing.T) {
	h := newHarness(t, engineio.Options{
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("deny") != "" {
				return errors.New("not you")
			}
			return nil
		},
	}, false)
	cases := []struct {
		name, method, query string
		status              int
		body                string
	}{
		{"no transport", "GET", "EIO=4", 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown transport", "GET", "EIO=4&transport=abc", 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"handshake by POST", "POST", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"handshake by PUT", "PUT", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", 400, `{"code":3,"message":"Bad request"}`},
		{"forbidden", "GET", "EIO=4&transport=polling&deny=1", 403, `{"code":4,"message":"not you"}`},
		{"no EIO", "GET", "transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO=3", "GET", "EIO=3&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO=abc", "GET", "EIO=abc&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
	}
	for _, c := range cases {
		code, body, hdr := h.do(c.method, c.query, "")
		if code != c.status || body != c.body {
			t.Errorf("%s: got %d %s, want %d %s", c.name, code, body, c.status, c.body)
		}
		if hdr.Get("Content-Type") != "application/json" {
			t.Errorf("%s: content type %q", c.name, hdr.Get("Content-Type"))
		}
	}
}

func TestWebSocketRefusedBeforeUpgrade(t *testing.T) {
	h := newHarness(t, engineio.Options{AllowRequest: func(*http.Request) error { return errors.New("no") }}, false)
	for query, status := range map[string]int{
		"transport=websocket":               400,
		"EIO=abc&transport=websocket":       400,
		"EIO=4":                             400,
		"EIO=4&transport=abc":               400,
		"EIO=4&transport=websocket&sid=bad": 400,
		"EIO=4&transport=websocket":         403,
	} {
		_, err := h.dialWS(query)
		var se ws.StatusError
		if !errors.As(err, &se) || int(se) != status {
			t.Errorf("%s: got %v, want refusal with HTTP %d", query, err, status)
		}
	}
}

func TestPollingEcho(t *testing.T) {
	h := newHarness(t, engineio.Options{}, true)
	sid := h.openPolling()
	if code, body := h.post(sid, "4hello\x1e4test2\x1ebAQIDBA=="); code != 200 || body != "ok" {
		t.Fatalf("post: %d %q", code, body)
	}
	if code, body := h.poll(sid); code != 200 || body != "4hello\x1e4test2\x1ebAQIDBA==" {
		t.Fatalf("poll: %d %q", code, body)
	}
	e := h.rec.waitMessage(t)
	if e.data != "hello" || e.binary {
		t.Errorf("first message %+v", e)
	}
	h.rec.waitMessage(t)
	if e := h.rec.waitMessage(t); e.data != "\x01\x02\x03\x04" || !e.binary {
		t.Errorf("binary message %+v", e)
	}
}

func TestPollingWaitsForData(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	sid := h.openPolling()
	got := make(chan string, 1)
	go func() {
		_, body := h.poll(sid)
		got <- body
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case b := <-got:
		t.Fatalf("poll answered %q before there was data", b)
	default:
	}
	h.rec.session(sid).Send(engineio.TextMessage([]byte("late")))
	if b := <-got; b != "4late" {
		t.Fatalf("poll answered %q", b)
	}
}

func TestInvalidPacketClosesSession(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	for _, body := range []string{"abc", "", "4a\x1e", "bnot base64!"} {
		sid := h.openPolling()
		if code, _ := h.post(sid, body); code != 400 {
			t.Errorf("%q: status %d, want 400", body, code)
		}
		if e := h.rec.waitClose(t, sid); e.reason != engineio.ReasonParseError {
			t.Errorf("%q: reason %q", body, e.reason)
		}
		if code, _ := h.poll(sid); code != 400 {
			t.Errorf("%q: poll after close: %d", body, code)
		}
	}
}

func TestDuplicatePollClosesSession(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	sid := h.openPolling()
	first := make(chan [2]any, 1)
	go func() {
		code, body := h.poll(sid)
		first <- [2]any{code, body}
	}()
	time.Sleep(50 * time.Millisecond)
	if code, _ := h.poll(sid); code != 400 {
		t.Errorf("second GET: %d, want 400", code)
	}
	if r := <-first; r[0] != 200 || r[1] != "1" {
		t.Errorf("first GET: %v, want 200 \"1\"", r)
	}
	if code, _ := h.poll(sid); code != 400 {
		t.Errorf("GET after close: %d", code)
	}
}

func TestAbortedPollClosesSession(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	sid := h.openPolling()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, "GET", h.url+"?EIO=4&transport=polling&sid="+sid, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	if e := h.rec.waitClose(t, sid); e.reason != engineio.ReasonTransportClose {
		t.Errorf("reason %q", e.reason)
	}
	if code, _ := h.poll(sid); code != 400 {
		t.Errorf("GET after abort: %d", code)
	}
}

func TestClientClosePolling(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	sid := h.openPolling()
	got := make(chan string, 1)
	go func() {
		_, body := h.poll(sid)
		got <- body
	}()
	time.Sleep(50 * time.Millisecond)
	h.post(sid, "1")
	if b := <-got; b != "6" {
		t.Errorf("pending GET answered %q, want noop", b)
	}
	if e := h.rec.waitClose(t, sid); e.reason != engineio.ReasonTransportClose {
		t.Errorf("reason %q", e.reason)
	}
}

func TestPollingPayloadTooLarge(t *testing.T) {
	h := newHarness(t, engineio.Options{MaxBufferSize: 100}, true)
	big, small := h.openPolling(), h.openPolling()
	if code, _ := h.post(big, "4"+strings.Repeat("x", 100)); code != 413 {
		t.Errorf("status %d, want 413", code)
	}
	if e := h.rec.waitClose(t, big); e.reason != engineio.ReasonTransportError || !errors.Is(e.err, engineio.ErrPayloadTooLarge) {
		t.Errorf("close %+v", e)
	}
	h.post(small, "4fine")
	if _, body := h.poll(small); body != "4fine" {
		t.Errorf("other session got %q", body)
	}
}

func TestWebSocketEcho(t *testing.T) {
	h := newHarness(t, engineio.Options{}, true)
	c, err := h.dialWS("EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	c.read() // open
	c.sendText("4hello")
	c.expect("4hello")
	c.sendBinary([]byte{1, 2, 3, 4})
	got, op, err := c.read()
	if err != nil || op != ws.OpBinary || got != "\x01\x02\x03\x04" {
		t.Fatalf("binary echo: %q %v %v", got, op, err)
	}
	// Fragmented text message.
	ws.WriteFrame(c.conn, ws.MaskFrame(ws.Frame{Header: ws.Header{OpCode: ws.OpText, Length: 3}, Payload: []byte("4fr")}))
	ws.WriteFrame(c.conn, ws.MaskFrame(ws.Frame{Header: ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: 3}, Payload: []byte("ag!")}))
	c.expect("4frag!")
}

func TestWebSocketInvalidPacketCloses(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	c, err := h.dialWS("EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	open, _, _ := c.read()
	o, _ := parseOpen(t, open)
	c.sendText("abc")
	if _, _, err := c.read(); err == nil {
		t.Error("connection still open after an invalid packet")
	}
	if e := h.rec.waitClose(t, o.SID); e.reason != engineio.ReasonParseError {
		t.Errorf("reason %q", e.reason)
	}
}

func TestWebSocketPayloadTooLarge(t *testing.T) {
	h := newHarness(t, engineio.Options{MaxBufferSize: 100}, true)
	big, _ := h.dialWS("EIO=4&transport=websocket")
	small, _ := h.dialWS("EIO=4&transport=websocket")
	open, _, _ := big.read()
	o, _ := parseOpen(t, open)
	small.read()
	big.sendText("4" + strings.Repeat("x", 100))
	if e := h.rec.waitClose(t, o.SID); !errors.Is(e.err, engineio.ErrPayloadTooLarge) {
		t.Errorf("close %+v", e)
	}
	small.sendText("4still here")
	small.expect("4still here")
}

func TestHeartbeat(t *testing.T) {
	opts := engineio.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}
	h := newHarness(t, opts, false)

	t.Run("polling", func(t *testing.T) {
		sid := h.openPolling()
		for i := 0; i < 3; i++ {
			if code, body := h.poll(sid); code != 200 || body != "2" {
				t.Fatalf("poll %d: %d %q", i, code, body)
			}
			h.post(sid, "3")
		}
		if e := h.rec.waitClose(t, sid); e.reason != engineio.ReasonPingTimeout {
			t.Errorf("reason %q", e.reason)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		c, _ := h.dialWS("EIO=4&transport=websocket")
		open, _, _ := c.read()
		o, _ := parseOpen(t, open)
		for i := 0; i < 3; i++ {
			c.expect("2")
			c.sendText("3")
		}
		if e := h.rec.waitClose(t, o.SID); e.reason != engineio.ReasonPingTimeout {
			t.Errorf("reason %q", e.reason)
		}
		// The unanswered ping may still be in flight; then the connection ends.
		if msg, _, err := c.read(); err == nil && msg == "2" {
			_, _, err = c.read()
		}
		if _, _, err := c.read(); err == nil {
			t.Error("connection open after ping timeout")
		}
	})
}

func TestUpgrade(t *testing.T) {
	h := newHarness(t, engineio.Options{}, true)
	sid := h.openPolling()

	pending := make(chan string, 1)
	go func() {
		_, body := h.poll(sid)
		pending <- body
	}()
	time.Sleep(30 * time.Millisecond)

	c, err := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	if err != nil {
		t.Fatal(err)
	}
	// A second WebSocket while one is upgrading is closed at once.
	expectClosedWS(t, h, sid)
	c.sendText("2probe")
	c.expect("3probe")
	if b := <-pending; b != "6" {
		t.Errorf("pending GET released with %q, want noop", b)
	}
	// Sent while the upgrade completes: must arrive over the WebSocket.
	h.rec.session(sid).Send(engineio.TextMessage([]byte("queued")))
	c.sendText("5")
	c.expect("4queued")
	c.sendText("4hello")
	c.expect("4hello")
	if tr := h.rec.session(sid).Transport(); tr != engineio.WebSocket {
		t.Errorf("transport %q after upgrade", tr)
	}
	if code, _ := h.poll(sid); code != 400 {
		t.Errorf("GET after upgrade: %d, want 400", code)
	}
	expectClosedWS(t, h, sid)
	c.sendText("4still")
	c.expect("4still")
}

// TestUpgradeProbeAnswerBeforePollRefusal: a client that sends "2probe" and
// "5" at once and then polls must have "3probe" by the time its GET is
// refused; a client that listens only after the refusal (as the protocol
// test suite does) would otherwise miss it.
func TestUpgradeProbeAnswerBeforePollRefusal(t *testing.T) {
	h := newHarness(t, engineio.Options{}, true)
	for i := 0; i < 20; i++ {
		c, sid := h.openProbe()
		c.sendText("2probe")
		c.sendText("5")
		if code, body := h.poll(sid); code != 400 {
			t.Fatalf("GET after the upgrade packet: %d %q, want 400", code, body)
		}
		// Over loopback, bytes written before the refusal are in the
		// socket's buffer now: the read needs no waiting.
		b, err := c.readWithin(10 * time.Millisecond)
		if err != nil || b != "3probe" {
			t.Fatalf("probe answer when the GET was refused: %q, %v", b, err)
		}
		c.sendText("4hello")
		c.expect("4hello")
	}
}

// expectClosedWS dials a second WebSocket for sid and expects it to be
// closed without a message, as the reference server does.
func expectClosedWS(t *testing.T, h *harness, sid string) {
	t.Helper()
	c, err := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	if err != nil {
		t.Fatalf("second WebSocket: %v", err)
	}
	if msg, _, err := c.read(); err == nil {
		t.Errorf("second WebSocket got %q, want it closed", msg)
	}
}

func TestClientCloseWithConcurrentPoll(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	sid := h.openPolling()
	// The close is handled before the GET that was sent with it arrives.
	h.post(sid, "1")
	if code, body := h.poll(sid); code != 200 || body != "6" {
		t.Errorf("GET sent with the close: %d %q, want 200 noop", code, body)
	}
	if code, _ := h.poll(sid); code != 400 {
		t.Errorf("later GET: %d, want 400", code)
	}
}

func TestUpgradeInvalidPacketKeepsPolling(t *testing.T) {
	h := newHarness(t, engineio.Options{}, true)
	sid := h.openPolling()
	c, _ := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	c.sendText("4too early")
	if _, _, err := c.read(); err == nil {
		t.Error("probe still open after an invalid packet")
	}
	h.post(sid, "4ok")
	if _, body := h.poll(sid); body != "4ok" {
		t.Errorf("polling after failed upgrade: %q", body)
	}
}

func TestUpgradeTimeout(t *testing.T) {
	h := newHarness(t, engineio.Options{UpgradeTimeout: 50 * time.Millisecond}, true)
	sid := h.openPolling()
	c, _ := h.dialWS("EIO=4&transport=websocket&sid=" + sid)
	if _, _, err := c.read(); err == nil {
		t.Error("probe still open after the upgrade timeout")
	}
	h.post(sid, "4ok")
	if _, body := h.poll(sid); body != "4ok" {
		t.Errorf("polling after upgrade timeout: %q", body)
	}
}

func TestSlowClientClosedOverBudget(t *testing.T) {
	h := newHarness(t, engineio.Options{MaxQueueBytes: 1000}, false)
	sid := h.openPolling()
	s := h.rec.session(sid)
	chunk := engineio.TextMessage(bytes.Repeat([]byte("x"), 300))
	for i := 0; i < 3; i++ {
		if err := s.Send(chunk); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := s.Send(chunk); !errors.Is(err, engineio.ErrQueueFull) {
		t.Fatalf("send over budget: %v", err)
	}
	if e := h.rec.waitClose(t, sid); !errors.Is(e.err, engineio.ErrQueueFull) {
		t.Errorf("close %+v", e)
	}
	if err := s.Send(chunk); !errors.Is(err, engineio.ErrSessionClosed) {
		t.Errorf("send after close: %v", err)
	}
}

func TestVolatile(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	sid := h.openPolling()
	s := h.rec.session(sid)
	if s.SendVolatile(engineio.TextMessage([]byte("dropped"))) {
		t.Error("volatile queued with no pending GET")
	}
	got := make(chan string, 1)
	go func() {
		_, body := h.poll(sid)
		got <- body
	}()
	deadline := time.Now().Add(2 * time.Second)
	for !s.SendVolatile(engineio.TextMessage([]byte("kept"))) {
		if time.Now().After(deadline) {
			t.Fatal("volatile never accepted with a pending GET")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if b := <-got; b != "4kept" {
		t.Errorf("got %q", b)
	}
}

func TestGracefulClose(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	t.Run("polling", func(t *testing.T) {
		sid := h.openPolling()
		s := h.rec.session(sid)
		s.Send(engineio.TextMessage([]byte("bye")))
		s.Close()
		if _, body := h.poll(sid); body != "4bye" {
			t.Errorf("last data poll %q", body)
		}
		if _, body := h.poll(sid); body != "1" {
			t.Errorf("last poll %q", body)
		}
		if e := h.rec.waitClose(t, sid); e.reason != engineio.ReasonForcedClose {
			t.Errorf("reason %q", e.reason)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		c, _ := h.dialWS("EIO=4&transport=websocket")
		open, _, _ := c.read()
		o, _ := parseOpen(t, open)
		s := h.rec.session(o.SID)
		s.Send(engineio.TextMessage([]byte("bye")))
		s.Close()
		c.expect("4bye")
		if _, _, err := c.read(); err == nil {
			t.Error("connection open after close")
		}
		if e := h.rec.waitClose(t, o.SID); e.reason != engineio.ReasonForcedClose {
			t.Errorf("reason %q", e.reason)
		}
	})
}

func TestShutdown(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	sid := h.openPolling()
	c, _ := h.dialWS("EIO=4&transport=websocket")
	c.read()
	var wg sync.WaitGroup
	wg.Add(1)
	var last string
	go func() {
		defer wg.Done()
		_, last = h.poll(sid)
	}()
	time.Sleep(30 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	wg.Wait()
	if last != "1" {
		t.Errorf("pending poll answered %q", last)
	}
	if h.srv.Count() != 0 {
		t.Errorf("%d sessions left", h.srv.Count())
	}
	if code, _, _ := h.do("GET", "EIO=4&transport=polling", ""); code != 400 {
		t.Errorf("handshake after shutdown: %d", code)
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t, engineio.Options{CORS: &engineio.CORSOptions{Origins: []string{"https://a.example"}, Credentials: true}}, false)
	req, _ := http.NewRequest("OPTIONS", h.url+"?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "https://a.example")
	req.Header.Set("Access-Control-Request-Headers", "x-custom")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://a.example" ||
		res.Header.Get("Access-Control-Allow-Credentials") != "true" || res.Header.Get("Access-Control-Allow-Headers") != "x-custom" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}
	req, _ = http.NewRequest("GET", h.url+"?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "https://evil.example")
	res, _ = http.DefaultClient.Do(req)
	res.Body.Close()
	if v := res.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("disallowed origin got %q", v)
	}
}

func TestHeadersHookAndCookie(t *testing.T) {
	h := newHarness(t, engineio.Options{
		Cookie: &http.Cookie{Name: "io", HttpOnly: true},
		Headers: func(hd http.Header, r *http.Request, handshake bool) {
			if handshake {
				hd.Set("X-Handshake", "yes")
			}
			hd.Set("X-Every", "1")
		},
	}, false)
	_, body, hdr := h.do("GET", "EIO=4&transport=polling", "")
	o, _ := parseOpen(t, body)
	if hdr.Get("X-Handshake") != "yes" || hdr.Get("X-Every") != "1" {
		t.Errorf("headers %v", hdr)
	}
	if c := hdr.Get("Set-Cookie"); !strings.HasPrefix(c, "io="+o.SID) || !strings.Contains(c, "HttpOnly") {
		t.Errorf("cookie %q", c)
	}
	h.rec.session(o.SID).Send(engineio.TextMessage([]byte("x")))
	_, _, hdr = h.do("GET", "EIO=4&transport=polling&sid="+o.SID, "")
	if hdr.Get("X-Handshake") != "" || hdr.Get("X-Every") != "1" {
		t.Errorf("poll headers %v", hdr)
	}
}

func TestHTTPCompression(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	sid := h.openPolling()
	payload := strings.Repeat("compressible ", 200)
	h.rec.session(sid).Send(engineio.TextMessage([]byte(payload)))
	req, _ := http.NewRequest("GET", h.url+"?EIO=4&transport=polling&sid="+sid, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not compressed: %v", res.Header)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	if string(b) != "4"+payload {
		t.Errorf("decompressed %d bytes, want %d", len(b), len(payload)+1)
	}
}

func TestWebSocketInvalidUTF8Closes(t *testing.T) {
	h := newHarness(t, engineio.Options{}, true)
	c, err := h.dialWS("EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	open, _, _ := c.read()
	o, _ := parseOpen(t, open)
	c.sendText("4\xff\xfe")
	if e := h.rec.waitClose(t, o.SID); e.reason != engineio.ReasonParseError {
		t.Errorf("reason %q", e.reason)
	}
}

func TestSessionAndHandshakeLimits(t *testing.T) {
	t.Run("MaxSessions", func(t *testing.T) {
		h := newHarness(t, engineio.Options{MaxSessions: 2}, false)
		h.openPolling()
		h.openPolling()
		code, body, _ := h.do("GET", "EIO=4&transport=polling", "")
		if code != 503 || !strings.Contains(body, `"code":3`) {
			t.Errorf("third session: %d %s", code, body)
		}
		if _, err := h.dialWS("EIO=4&transport=websocket"); err == nil {
			t.Error("a WebSocket session was accepted over MaxSessions")
		}
	})
	t.Run("HandshakeRate", func(t *testing.T) {
		h := newHarness(t, engineio.Options{HandshakeRate: 1, HandshakeBurst: 3}, false)
		for i := 0; i < 3; i++ {
			h.openPolling()
		}
		if code, _, _ := h.do("GET", "EIO=4&transport=polling", ""); code != 429 {
			t.Errorf("fourth handshake in a burst of 3: %d, want 429", code)
		}
		time.Sleep(1100 * time.Millisecond) // one token back
		h.openPolling()
	})
}

// TestSessionRequest: the request a session keeps is rebuilt with what the
// handshake carried, every value of a repeated header in order.
func TestSessionRequest(t *testing.T) {
	h := newHarness(t, engineio.Options{}, false)
	req, err := http.NewRequest("GET", h.url+"?EIO=4&transport=polling&token=a%20b", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Add("X-Tenant", "acme")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two: three")
	req.Header.Set("Cookie", "k=v; io=x")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	o, _ := parseOpen(t, string(body))
	r := h.rec.session(o.SID).Request()
	if r.Method != "GET" || r.URL.Path != "/engine.io/" || r.URL.Query().Get("token") != "a b" {
		t.Errorf("request line: %s %v", r.Method, r.URL)
	}
	if r.Host != req.URL.Host || r.RemoteAddr == "" || r.ProtoMajor != 1 || r.ProtoMinor != 1 {
		t.Errorf("host %q, remote %q, proto %d.%d", r.Host, r.RemoteAddr, r.ProtoMajor, r.ProtoMinor)
	}
	if got := r.Header["X-Multi"]; len(got) != 2 || got[0] != "one" || got[1] != "two: three" {
		t.Errorf("X-Multi %q", got)
	}
	if r.Header.Get("X-Tenant") != "acme" || r.Header.Get("Cookie") != "k=v; io=x" {
		t.Errorf("headers %v", r.Header)
	}
}

// TestUpgradePipelined: a client that sends "2probe", "5" and a message at
// once, without waiting for "3probe", is upgraded, and its message is the
// session's.
func TestUpgradePipelined(t *testing.T) {
	h := newHarness(t, engineio.Options{}, true)
	for i := 0; i < 20; i++ {
		c, sid := h.openProbe()
		c.sendText("2probe")
		c.sendText("5")
		c.sendText("4hello")
		c.expect("3probe")
		c.expect("4hello")
		if tr := h.rec.session(sid).Transport(); tr != engineio.WebSocket {
			t.Fatalf("transport %q after the upgrade", tr)
		}
	}
}

// TestPollingWithUpgradeHeader: an Upgrade header does not let a polling
// request into a session that uses WebSocket.
func TestPollingWithUpgradeHeader(t *testing.T) {
	h := newHarness(t, engineio.Options{}, true)
	_, sid := h.openWS()
	req, _ := http.NewRequest("POST", h.url+"?EIO=4&transport=polling&sid="+sid, strings.NewReader("4injected"))
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("POST with an Upgrade header into a WebSocket session: %d, want 400", res.StatusCode)
	}
}

// TestSessionRequestAfterMiddleware: the request kept for the session has
// the URL the handler saw, after a middleware such as http.StripPrefix.
func TestSessionRequestAfterMiddleware(t *testing.T) {
	rec := newRecorder(false)
	srv := engineio.NewServer(engineio.Options{}, rec.open)
	hs := httptest.NewServer(http.StripPrefix("/api", srv))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	res, err := http.Get(hs.URL + "/api/engine.io/?EIO=4&transport=polling&k=v")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	o, _ := parseOpen(t, string(body))
	r := rec.session(o.SID).Request()
	if r.URL.Path != "/engine.io/" || r.URL.Query().Get("k") != "v" {
		t.Errorf("URL %v, want /engine.io/?...k=v", r.URL)
	}
	if r.RequestURI != "/api/engine.io/?EIO=4&transport=polling&k=v" {
		t.Errorf("RequestURI %q", r.RequestURI)
	}
}
