package roomcast_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomcast/roomcast"
	"github.com/roomcast/roomcast/parser"
)

// FuzzBindArgs decodes an EVENT packet as a socket would (its text, then up
// to two binary attachments) and binds its arguments into every kind of
// destination Bind supports. Whatever the client sent, Bind returns an
// error or values; it never panics, and what it resolves to bytes is one
// of the packet's attachments. Seeds: testdata/fuzz/FuzzBindArgs.
func FuzzBindArgs(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string, att0, att1 []byte) {
		var d parser.Decoder
		p, err := d.Add([]byte(text), false)
		for _, att := range [][]byte{att0, att1} {
			if err != nil || p != nil {
				break
			}
			p, err = d.Add(att, true)
		}
		if err != nil || p == nil || (p.Type != parser.Event && p.Type != parser.BinaryEvent) {
			return
		}
		args, err := parser.SplitArray(p.Data)
		if err != nil || len(args) == 0 {
			return
		}
		e := &roomcast.Event{Args: args[1:], Attachments: p.Attachments}
		if len(e.Args) == 0 {
			var s string
			if err := e.Bind(&s); !errors.Is(err, roomcast.ErrMissingArgument) {
				t.Fatalf("no arguments bound with %v", err)
			}
			return
		}
		isAttachment := func(b []byte) bool {
			for _, a := range p.Attachments {
				if len(a) == len(b) && (len(b) == 0 || &a[0] == &b[0]) {
					return true
				}
			}
			return false
		}

		var raw json.RawMessage
		if e.Bind(&raw) == nil && !bytes.Equal(raw, e.Args[0]) {
			t.Fatalf("RawMessage %q, argument %q", raw, e.Args[0])
		}
		var bin []byte
		err = e.Bind(&bin)
		if _, ok := parser.ResolvePlaceholder(e.Args[0], p.Attachments); ok && (err != nil || !isAttachment(bin)) {
			t.Fatalf("placeholder %q bound to %q, %v: want its attachment", e.Args[0], bin, err)
		}
		var anyv any
		e.Bind(&anyv)
		var list []any
		e.Bind(&list)
		var obj map[string]any
		e.Bind(&obj)
		var s string
		var n float64
		var st struct {
			Room string   `json:"room"`
			Data []byte   `json:"data"`
			Tags []string `json:"tags"`
		}
		e.Bind(&s, &n, &st)
		e.Bind(&st, &anyv, &bin, &raw)
	})
}
