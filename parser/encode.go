package parser

import "strconv"

// AppendEncode appends the text form of p to dst and returns it, together with
// the binary attachments to be sent after it as separate binary messages (nil
// when there are none).
//
// Attachments turn Event and Ack into BinaryEvent and BinaryAck with the
// "N-" attachment-count prefix; a binary type without attachments is written
// as the plain type, because the count 0 is rejected by every decoder. The
// namespace "/" (or "") is omitted; any other namespace is written followed by
// a comma, as the reference encoder does even when nothing follows ("1/admin,").
//
// dst is appended to, never assumed empty: passing []byte{'4'} yields an
// Engine.IO message packet in one allocation, and with a large enough dst
// encoding allocates nothing.
//
// AppendEncode does not check p; see Validate.
func AppendEncode(dst []byte, p *Packet) ([]byte, [][]byte) {
	t := wireType(p.Type, len(p.Attachments))
	dst = append(dst, '0'+byte(t))
	binary := t == BinaryEvent || t == BinaryAck
	if binary {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	dst = append(dst, p.Data...)
	if !binary {
		return dst, nil
	}
	return dst, p.Attachments
}
