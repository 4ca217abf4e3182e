package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomcast/roomcast/internal/sioclient"
)

func dial(base string) (*sioclient.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return sioclient.Dial(ctx, sioclient.URL(base, "/socket.io/"))
}

// receiver is a healthy client: it records the sequence numbers of the
// broadcasts it receives.
type receiver struct {
	c      *sioclient.Client
	mu     sync.Mutex
	seen   map[int64]bool
	lat    []time.Duration // receive time - send time, per broadcast
	closed atomic.Bool
	ended  chan struct{}
}

func newReceiver(base, room string) (*receiver, error) {
	c, err := dial(base)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Connect(ctx, "/", map[string]string{"room": room}); err != nil {
		c.Close()
		return nil, err
	}
	r := &receiver{c: c, seen: map[int64]bool{}, ended: make(chan struct{})}
	go r.loop()
	return r, nil
}

func (r *receiver) loop() {
	defer close(r.ended)
	for {
		name, args, _, err := r.c.NextEvent(context.Background(), "/")
		if err != nil {
			return
		}
		if name != "msg" || len(args) == 0 {
			continue
		}
		var p struct {
			Seq *int64 `json:"seq"`
			T   int64  `json:"t"`
		}
		if json.Unmarshal(args[0], &p) == nil && p.Seq != nil {
			lat := time.Since(epoch) - time.Duration(p.T)
			r.mu.Lock()
			r.seen[*p.Seq] = true
			r.lat = append(r.lat, lat)
			r.mu.Unlock()
		}
	}
}

func (r *receiver) latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lat)
}

func (r *receiver) count() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(len(r.seen))
}

// dropped reports a connection that ended before we closed it.
func (r *receiver) dropped() bool {
	select {
	case <-r.ended:
		return !r.closed.Load()
	default:
		return false
	}
}

func (r *receiver) close() {
	r.closed.Store(true)
	r.c.Close()
	<-r.ended
}

// churn connects, acks and leaves in a loop, over WebSocket and polling in turn.
func churn(ctx context.Context, base string, id int, res *result) {
	for i := 0; ctx.Err() == nil; i++ {
		var err error
		if i%2 == 0 {
			err = churnWebSocket(ctx, base, id, i)
		} else {
			err = churnPolling(base, id, i)
		}
		atomic.AddInt64(&res.ChurnCycles, 1)
		if err != nil && ctx.Err() == nil {
			if atomic.AddInt64(&res.ChurnErrors, 1) == 1 {
				res.FirstChurnErr = err.Error()
			}
		}
	}
}

func churnWebSocket(ctx context.Context, base string, id, i int) error {
	c, err := dial(base)
	if err != nil {
		return err
	}
	defer c.Close()
	room := fmt.Sprintf("churn-%d", id)
	if _, err := c.Connect(ctx, "/", map[string]string{"room": room}); err != nil {
		return err
	}
	ack, err := c.EmitWithAck(ctx, "/", "echo", map[string]int{"n": i})
	if err != nil {
		return err
	}
	if want := fmt.Sprintf(`[{"n":%d}]`, i); string(ack.Data) != want {
		return fmt.Errorf("echo acked %s, want %s", ack.Data, want)
	}
	return c.Emit("/", "broadcast", room, "churn")
}

// pollingSession is a raw long-polling client.
type pollingSession struct {
	base, sid string
}

func (p *pollingSession) url() string {
	u := p.base + "/socket.io/?EIO=4&transport=polling"
	if p.sid != "" {
		u += "&sid=" + p.sid
	}
	return u
}

func (p *pollingSession) get() (int, string, error) {
	res, err := http.Get(p.url())
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

func (p *pollingSession) post(body string) (int, error) {
	res, err := http.Post(p.url(), "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

func openPolling(base string) (*pollingSession, error) {
	p := &pollingSession{base: base}
	code, body, err := p.get()
	if err != nil || code != 200 {
		return nil, fmt.Errorf("handshake: %d %v", code, err)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if len(body) < 2 || json.Unmarshal([]byte(body[1:]), &open) != nil {
		return nil, fmt.Errorf("handshake body %q", body)
	}
	p.sid = open.SID
	return p, nil
}

func churnPolling(base string, id, i int) error {
	p, err := openPolling(base)
	if err != nil {
		return err
	}
	defer p.post("1")
	if code, err := p.post(fmt.Sprintf(`40{"room":"churn-%d"}`, id)); err != nil || code != 200 {
		return fmt.Errorf("connect: %d %v", code, err)
	}
	if _, body, err := p.get(); err != nil || !strings.HasPrefix(body, "40{") {
		return fmt.Errorf("connect ack %q %v", body, err)
	}
	if code, err := p.post(fmt.Sprintf(`421["echo",%d]`, i)); err != nil || code != 200 {
		return fmt.Errorf("echo: %d %v", code, err)
	}
	want := fmt.Sprintf(`431[%d]`, i)
	for tries := 0; tries < 5; tries++ {
		_, body, err := p.get()
		if err != nil {
			return err
		}
		if strings.Contains(body, want) {
			return nil
		}
	}
	return fmt.Errorf("no echo ack %s", want)
}

// malformed are Socket.IO and Engine.IO messages that a server must refuse
// without harm.
var malformed = []string{
	`42["echo",` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `]`,
	`451000000000-["echo",{"_placeholder":true,"num":0}]`,
	`4299999999999999999999999["echo"]`,
	"42[\"echo\",\"\xff\xfe\"]",
	"40/" + strings.Repeat("n", 10000) + ",",
	`49["echo"]`,
	`42{"echo":1}`,
	`42[{"a":1}]`,
	`42["disconnect"]`,
	`451-["echo",{"_placeholder":true,"num":7}]`,
	`4}}}{{{`,
	`4`,
	`x`,
	`2probe`,
	`5`,
}

// hostile sends one kind of hostile traffic after another.
func hostile(ctx context.Context, base string, id int, res *result) {
	for i := id; ctx.Err() == nil; i++ {
		switch i % 7 {
		case 0: // a malformed packet over WebSocket
			if c, err := dial(base); err == nil {
				c.Connect(ctx, "/", nil)
				c.SendRaw(malformed[(i/7)%len(malformed)])
				time.Sleep(20 * time.Millisecond)
				c.Close()
			}
		case 1: // an oversized WebSocket message
			if c, err := dial(base); err == nil {
				c.SendRaw(`42["echo","` + strings.Repeat("x", 1_100_000) + `"]`)
				time.Sleep(20 * time.Millisecond)
				c.Close()
			}
		case 2: // an oversized or malformed polling body
			if p, err := openPolling(base); err == nil {
				if i%2 == 0 {
					p.post(strings.Repeat("4", 1_100_000))
				} else {
					p.post(malformed[(i/7)%len(malformed)])
				}
			}
		case 3: // a stalled reader in the healthy room
			if c, err := dial(base); err == nil {
				if _, err := c.Connect(ctx, "/", map[string]string{"room": "soak"}); err == nil {
					c.Pause()
					sleep(ctx, 3*time.Second)
				}
				c.Close()
			}
		case 4: // an abandoned poll: joins the healthy room, never polls again
			if p, err := openPolling(base); err == nil {
				p.post(`40{"room":"soak"}`)
			}
		case 5: // a poll aborted by the client
			if p, err := openPolling(base); err == nil {
				c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				req, _ := http.NewRequestWithContext(c, "GET", p.url(), nil)
				if r, err := http.DefaultClient.Do(req); err == nil {
					r.Body.Close()
				}
				cancel()
			}
		case 6: // a slow HTTP client: one header byte at a time
			slowHeaders(ctx, base)
		}
		atomic.AddInt64(&res.HostileActions, 1)
	}
}

func slowHeaders(ctx context.Context, base string) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		return
	}
	defer conn.Close()
	req := "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"
	for i := 0; i < len(req) && ctx.Err() == nil; i++ {
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := conn.Write([]byte{req[i]}); err != nil {
			return // the server gave up on us: what it should do
		}
		sleep(ctx, 200*time.Millisecond)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
