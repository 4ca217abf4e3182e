package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// pollConn is the client side of Engine.IO's HTTP long-polling transport,
// for mixed runs: the reader goroutine keeps one GET pending, writers send
// POSTs one at a time (the server refuses overlapping ones).
type pollConn struct {
	hc   *http.Client
	base string // http://host/socket.io/?EIO=4&transport=polling&sid=...

	ctx    context.Context
	cancel context.CancelFunc

	body    []byte   // the last GET's payload
	pending [][]byte // its packets not yet returned

	wmu  sync.Mutex
	wbuf []byte
}

// dialPolling performs the handshake GET, whose open packet ("0{...}") names
// the session.
func dialPolling(ctx context.Context, hc *http.Client, host, path string) (*pollConn, error) {
	url := "http://" + host + path + "?EIO=4&transport=polling"
	body, err := pollGet(ctx, hc, url)
	if err != nil {
		return nil, err
	}
	packets := bytes.Split(body, []byte{0x1e})
	open := packets[0]
	if len(open) == 0 || open[0] != '0' {
		return nil, fmt.Errorf("polling handshake: no open packet: %.60q", body)
	}
	sid, err := openSID(open)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(context.Background())
	c := &pollConn{hc: hc, base: url + "&sid=" + sid, ctx: pctx, cancel: cancel, pending: packets[1:]}
	return c, nil
}

func pollGet(ctx context.Context, hc *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("polling GET: %s: %.80q", resp.Status, body)
	}
	return body, nil
}

// read returns the next Engine.IO packet, with its type digit; binary packets
// ("b" + base64) come back decoded, without one. Only the reader goroutine
// may call it.
func (c *pollConn) read() ([]byte, bool, error) {
	for len(c.pending) == 0 {
		body, err := pollGet(c.ctx, c.hc, c.base)
		if err != nil {
			if c.ctx.Err() != nil {
				return nil, false, errClosed
			}
			return nil, false, err
		}
		c.body = body
		c.pending = bytes.Split(body, []byte{0x1e})
	}
	p := c.pending[0]
	c.pending = c.pending[1:]
	if len(p) > 0 && p[0] == 'b' {
		raw, err := base64.StdEncoding.AppendDecode(nil, p[1:])
		return raw, true, err
	}
	return p, false, nil
}

// writeText sends the packets in one POST. Safe for concurrent use.
func (c *pollConn) writeText(msgs ...[]byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = c.wbuf[:0]
	for i, m := range msgs {
		if i > 0 {
			c.wbuf = append(c.wbuf, 0x1e)
		}
		c.wbuf = append(c.wbuf, m...)
	}
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, c.base, bytes.NewReader(c.wbuf))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("polling POST: %s", resp.Status)
	}
	return nil
}

// close sends the Engine.IO close packet and ends the pending GET.
func (c *pollConn) close() error {
	err := c.writeText([]byte("1"))
	c.cancel()
	return err
}
