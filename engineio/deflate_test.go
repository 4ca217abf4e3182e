package engineio_test

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"

	"github.com/roomcast/roomcast/engineio"
)

// dialOffer dials with offer (a Sec-WebSocket-Extensions value, "" for none)
// and returns the client and the extensions the server accepted, as the
// client parsed them.
func (h *harness) dialOffer(query, offer string) (*wsClient, string, error) {
	var d ws.Dialer
	if offer != "" {
		opts, ok := httphead.ParseOptions([]byte(offer), nil)
		if !ok {
			h.t.Fatalf("bad offer %q", offer)
		}
		d.Extensions = opts
	}
	u := "ws" + strings.TrimPrefix(h.url, "http") + "?" + query
	conn, br, hs, err := d.Dial(context.Background(), u)
	if err != nil {
		return nil, "", err
	}
	var accepted bytes.Buffer
	httphead.WriteOptions(&accepted, hs.Extensions)
	c := &wsClient{t: h.t, conn: conn, rw: conn}
	if br != nil {
		c.rw = struct {
			io.Reader
			io.Writer
		}{io.MultiReader(br, conn), conn}
	}
	h.t.Cleanup(func() { conn.Close() })
	return c, accepted.String(), nil
}

// dialDeflate opens a WebSocket session that negotiated permessage-deflate
// and returns the client and the session id.
func (h *harness) dialDeflate() (*wsClient, string) {
	h.t.Helper()
	c, accepted, err := h.dialOffer("EIO=4&transport=websocket", "permessage-deflate; client_max_window_bits")
	if err != nil {
		h.t.Fatal(err)
	}
	if accepted != deflateAccepted {
		h.t.Fatalf("extensions %q, want %q", accepted, deflateAccepted)
	}
	msg, _ := c.readMessage()
	o, _ := parseOpen(h.t, string(msg))
	return c, o.SID
}

// deflateAccepted is the server's answer to an acceptable offer.
const deflateAccepted = "permessage-deflate;server_no_context_takeover;client_no_context_takeover"

// compress deflates msg as a permessage-deflate sender does.
func compress(t *testing.T, msg []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(msg)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// writeFrame writes one masked frame, with RSV1 when rsv1 is set.
func (c *wsClient) writeFrame(op ws.OpCode, fin, rsv1 bool, payload []byte) {
	c.t.Helper()
	f := ws.NewFrame(op, fin, payload)
	f.Header.Rsv = ws.Rsv(rsv1, false, false)
	if err := ws.WriteFrame(c.conn, ws.MaskFrame(f)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) sendCompressed(op ws.OpCode, msg []byte) {
	c.t.Helper()
	c.writeFrame(op, true, true, compress(c.t, msg))
}

// readFrame reads one frame as it is on the wire.
func (c *wsClient) readFrame() (ws.Header, []byte, error) {
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := ws.ReadHeader(c.rw)
	if err != nil {
		return h, nil, err
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(c.rw, p)
	return h, p, err
}

// readMessage reads one unfragmented data message, inflated if it came
// compressed, which it reports.
func (c *wsClient) readMessage() ([]byte, bool) {
	c.t.Helper()
	h, p, err := c.readFrame()
	if err != nil {
		c.t.Fatal(err)
	}
	if !h.Fin || (h.OpCode != ws.OpText && h.OpCode != ws.OpBinary) {
		c.t.Fatalf("frame %+v, want a whole data message", h)
	}
	rsv1, _, _ := ws.RsvBits(h.Rsv)
	if !rsv1 {
		return p, false
	}
	zr := flate.NewReader(io.MultiReader(bytes.NewReader(p), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff")))
	out, err := io.ReadAll(zr)
	if err != nil {
		c.t.Fatalf("inflating the server's message: %v", err)
	}
	return out, true
}

// expectClose reads until the server's close frame and returns its code.
func (c *wsClient) expectClose() ws.StatusCode {
	c.t.Helper()
	for {
		h, p, err := c.readFrame()
		if err != nil {
			c.t.Fatalf("no close frame: %v", err)
		}
		if h.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(p)
			return code
		}
	}
}

func TestPerMessageDeflateNegotiation(t *testing.T) {
	on := newHarness(t, engineio.Options{PerMessageDeflate: true}, true)
	off := newHarness(t, engineio.Options{}, true)
	cases := []struct {
		name  string
		h     *harness
		offer string
		want  string // the accepted extension, "" for none
	}{
		{"off", off, "permessage-deflate; client_max_window_bits", ""},
		{"browser offer", on, "permessage-deflate; client_max_window_bits", deflateAccepted},
		{"bare offer", on, "permessage-deflate", deflateAccepted},
		{"no context takeover offered", on, "permessage-deflate; server_no_context_takeover; client_no_context_takeover", deflateAccepted},
		{"no offer", on, "", ""},
		{"other extension", on, "x-webkit-deflate-frame", ""},
		{"small server window declined", on, "permessage-deflate; server_max_window_bits=10", ""},
		{"second offer taken", on, "permessage-deflate; server_max_window_bits=10, permessage-deflate", deflateAccepted},
		{"unknown parameter declined", on, "permessage-deflate; bogus=1", ""},
		{"invalid value declined", on, "permessage-deflate; client_max_window_bits=99", ""},
	}
	for _, tc := range cases {
		c, got, err := tc.h.dialOffer("EIO=4&transport=websocket", tc.offer)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: accepted %q, want %q", tc.name, got, tc.want)
		}
		// Either way the session works.
		if msg, _ := c.readMessage(); msg[0] != '0' {
			t.Errorf("%s: first message %q", tc.name, msg)
		}
		c.sendText("4hi")
		if msg, compressed := c.readMessage(); string(msg) != "4hi" || compressed {
			t.Errorf("%s: echo %q (compressed %v)", tc.name, msg, compressed)
		}
	}
}

func TestPerMessageDeflateEcho(t *testing.T) {
	h := newHarness(t, engineio.Options{PerMessageDeflate: true}, true)
	c, _ := h.dialDeflate()
	big := "4" + strings.Repeat("compressible text ", 100)

	// A compressed message at or over the threshold is echoed compressed.
	c.sendCompressed(ws.OpText, []byte(big))
	if e := h.rec.waitMessage(t); e.data != big[1:] || e.binary {
		t.Errorf("server got %d bytes (binary %v), want the %d inflated", len(e.data), e.binary, len(big)-1)
	}
	if msg, compressed := c.readMessage(); string(msg) != big || !compressed {
		t.Errorf("echo of %d bytes: %d bytes, compressed %v", len(big), len(msg), compressed)
	}

	// Below the threshold messages go uncompressed, whatever the client did.
	for _, send := range []func(){
		func() { c.sendText("4hello") },
		func() { c.sendCompressed(ws.OpText, []byte("4hello")) },
	} {
		send()
		if msg, compressed := c.readMessage(); string(msg) != "4hello" || compressed {
			t.Errorf("small echo %q, compressed %v", msg, compressed)
		}
	}

	// Binary messages, and an uncompressed large one from the client.
	bin := bytes.Repeat([]byte{1, 2, 3, 4}, 1000)
	c.sendCompressed(ws.OpBinary, bin)
	if msg, compressed := c.readMessage(); !bytes.Equal(msg, bin) || !compressed {
		t.Errorf("binary echo: %d bytes, compressed %v", len(msg), compressed)
	}
	c.sendText(big)
	if msg, compressed := c.readMessage(); string(msg) != big || !compressed {
		t.Errorf("echo of an uncompressed large message: compressed %v", compressed)
	}

	// A compressed message in fragments: RSV1 on the first frame only.
	z := compress(t, []byte(big))
	c.writeFrame(ws.OpText, false, true, z[:len(z)/2])
	c.writeFrame(ws.OpPing, true, false, []byte("between"))
	c.writeFrame(ws.OpContinuation, true, false, z[len(z)/2:])
	if h, p, err := c.readFrame(); err != nil || h.OpCode != ws.OpPong || string(p) != "between" {
		t.Fatalf("pong: %+v %q %v", h, p, err)
	}
	if msg, _ := c.readMessage(); string(msg) != big {
		t.Errorf("fragmented compressed message came back as %d bytes", len(msg))
	}

	// Incompressible data over the threshold goes as it is.
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(i*7919 + i*i*31 + i>>3)
	}
	c.sendBinary(random)
	if msg, _ := c.readMessage(); !bytes.Equal(msg, random) {
		t.Error("incompressible message changed")
	}
}

func TestPerMessageDeflateThreshold(t *testing.T) {
	h := newHarness(t, engineio.Options{PerMessageDeflate: true, PerMessageDeflateThreshold: 64}, true)
	c, _ := h.dialDeflate()
	for _, n := range []int{63, 64, 65} {
		msg := "4" + strings.Repeat("a", n-1)
		c.sendText(msg)
		got, compressed := c.readMessage()
		if string(got) != msg || compressed != (n >= 64) {
			t.Errorf("%d bytes: compressed %v", n, compressed)
		}
	}
}

func TestPerMessageDeflateBomb(t *testing.T) {
	const limit = 1 << 20
	h := newHarness(t, engineio.Options{PerMessageDeflate: true, MaxBufferSize: limit}, true)

	// Exactly the limit, inflated, is accepted.
	c, sid := h.dialDeflate()
	exact := "4" + strings.Repeat("x", limit-1)
	c.sendCompressed(ws.OpText, []byte(exact))
	if msg, _ := c.readMessage(); len(msg) != limit {
		t.Fatalf("echo of a message of MaxBufferSize: %d bytes", len(msg))
	}

	// 64 MiB of zeros in 64 KiB on the wire: the session is closed at the
	// limit, with 1009 for the client and ErrPayloadTooLarge for the receiver.
	// The bomb is 64 copies of 1 MiB of zeros compressed, each flushed, so
	// their concatenation is one valid stream (and cheap to build under -race).
	block := append(compress(t, make([]byte, 1<<20)), 0, 0, 0xff, 0xff)
	bomb := bytes.TrimSuffix(bytes.Repeat(block, 64), []byte{0, 0, 0xff, 0xff})
	if len(bomb) > limit {
		t.Fatalf("bomb of %d bytes does not fit in a frame", len(bomb))
	}
	c.writeFrame(ws.OpBinary, true, true, bomb)
	if code := c.expectClose(); code != ws.StatusMessageTooBig {
		t.Errorf("close code %d, want %d", code, ws.StatusMessageTooBig)
	}
	if e := h.rec.waitClose(t, sid); e.reason != engineio.ReasonTransportError || !errors.Is(e.err, engineio.ErrPayloadTooLarge) {
		t.Errorf("close %+v", e)
	}

	// One byte over, in fragments.
	c, sid = h.dialDeflate()
	z := compress(t, []byte(exact+"y"))
	c.writeFrame(ws.OpText, false, true, z[:10])
	c.writeFrame(ws.OpContinuation, true, false, z[10:])
	if code := c.expectClose(); code != ws.StatusMessageTooBig {
		t.Errorf("close code %d, want %d", code, ws.StatusMessageTooBig)
	}
	if e := h.rec.waitClose(t, sid); !errors.Is(e.err, engineio.ErrPayloadTooLarge) {
		t.Errorf("close %+v", e)
	}
}

func TestPerMessageDeflateProtocolErrors(t *testing.T) {
	on := newHarness(t, engineio.Options{PerMessageDeflate: true}, true)
	off := newHarness(t, engineio.Options{}, true)
	cases := []struct {
		name   string
		h      *harness
		send   func(c *wsClient)
		code   ws.StatusCode
		reason engineio.Reason
	}{
		{"RSV1 not negotiated", off, func(c *wsClient) {
			c.sendCompressed(ws.OpText, []byte("4hello"))
		}, ws.StatusProtocolError, engineio.ReasonTransportError},
		{"RSV1 on a continuation", on, func(c *wsClient) {
			z := compress(t, []byte("4hello"))
			c.writeFrame(ws.OpText, false, true, z[:2])
			c.writeFrame(ws.OpContinuation, true, true, z[2:])
		}, ws.StatusProtocolError, engineio.ReasonTransportError},
		{"RSV1 on a ping", on, func(c *wsClient) {
			c.writeFrame(ws.OpPing, true, true, nil)
		}, ws.StatusProtocolError, engineio.ReasonTransportError},
		{"RSV2", on, func(c *wsClient) {
			f := ws.NewTextFrame([]byte("4hello"))
			f.Header.Rsv = ws.Rsv(false, true, false)
			ws.WriteFrame(c.conn, ws.MaskFrame(f))
		}, ws.StatusProtocolError, engineio.ReasonTransportError},
		{"corrupt data", on, func(c *wsClient) {
			c.writeFrame(ws.OpText, true, true, []byte{0xff, 0xff, 0xff, 0xff})
		}, ws.StatusInvalidFramePayloadData, engineio.ReasonParseError},
	}
	for _, tc := range cases {
		offer := "permessage-deflate"
		if tc.h == off {
			offer = ""
		}
		c, _, err := tc.h.dialOffer("EIO=4&transport=websocket", offer)
		if err != nil {
			t.Fatal(err)
		}
		open, _ := c.readMessage()
		o, _ := parseOpen(t, string(open))
		tc.send(c)
		if code := c.expectClose(); code != tc.code {
			t.Errorf("%s: close code %d, want %d", tc.name, code, tc.code)
		}
		if e := tc.h.rec.waitClose(t, o.SID); e.reason != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.name, e.reason, tc.reason)
		}
	}
}

// TestPerMessageDeflateBroadcast sends one Frame to sessions with and without
// the extension: each gets it in its own wire shape.
func TestPerMessageDeflateBroadcast(t *testing.T) {
	h := newHarness(t, engineio.Options{PerMessageDeflate: true}, false)
	var clients []*wsClient
	var sids []string
	for range 3 {
		c, sid := h.dialDeflate()
		clients, sids = append(clients, c), append(sids, sid)
	}
	plain, _, err := h.dialOffer("EIO=4&transport=websocket", "")
	if err != nil {
		t.Fatal(err)
	}
	open, _ := plain.readMessage()
	o, _ := parseOpen(t, string(open))
	clients, sids = append(clients, plain), append(sids, o.SID)

	payload := []byte(strings.Repeat(`["news","the same for everyone"]`, 100))
	frames := []engineio.Frame{engineio.TextMessage(payload), engineio.BinaryMessage(payload)}
	for _, f := range frames {
		for _, sid := range sids {
			if err := h.rec.session(sid).Send(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, c := range clients {
		for _, f := range frames {
			msg, compressed := c.readMessage()
			if !bytes.Equal(msg, f.Data) || compressed != (c != plain) {
				t.Errorf("client %d: %d bytes, compressed %v", i, len(msg), compressed)
			}
		}
	}
}

func TestPerMessageDeflateUpgrade(t *testing.T) {
	h := newHarness(t, engineio.Options{PerMessageDeflate: true}, true)
	sid := h.openPolling()
	c, accepted, err := h.dialOffer("EIO=4&transport=websocket&sid="+sid, "permessage-deflate")
	if err != nil || accepted != deflateAccepted {
		t.Fatalf("probe: %q %v", accepted, err)
	}
	c.sendCompressed(ws.OpText, []byte("2probe"))
	if msg, compressed := c.readMessage(); string(msg) != "3probe" || compressed {
		t.Fatalf("probe answer %q, compressed %v", msg, compressed)
	}
	c.sendText("5")
	big := "4" + strings.Repeat("upgraded ", 200)
	c.sendCompressed(ws.OpText, []byte(big))
	if msg, compressed := c.readMessage(); string(msg) != big || !compressed {
		t.Errorf("echo after upgrade: %d bytes, compressed %v", len(msg), compressed)
	}
}
