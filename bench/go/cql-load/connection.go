package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"time"

	"zdm/bench/cql"
)

// ONE (spec v4 §3) and the <flags> of query parameters carrying values (spec v4 §4.1.4).
const (
	consistencyOne = 0x0001
	flagValues     = 0x01
)

// connection is one CQL connection: STARTUP (with compression, if any), both statements
// prepared, then closed loops of EXECUTE, one per stream id.
type connection struct {
	c     net.Conn
	r     *bufio.Reader
	w     *bufio.Writer
	codec bodyCodec
	// Requests are compressed once STARTUP is answered (spec v4 §5: STARTUP never is).
	compressing        bool
	insertID, selectID []byte
	// Reused buffers: the request body, its text value, its compressed form, the response and its decompressed form.
	body, value, packed, in, unpacked []byte
}

func dial(address string, codec bodyCodec) (*connection, error) {
	c, err := net.Dial("tcp", address)
	if err != nil {
		return nil, err
	}
	c.(*net.TCPConn).SetNoDelay(true)
	conn := &connection{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 64<<10), codec: codec}
	options := [][2]string{{"CQL_VERSION", "3.0.0"}}
	if codec != nil {
		options = append(options, [2]string{"COMPRESSION", codec.name()})
	}
	startup := cql.AppendShort(nil, len(options))
	for _, o := range options {
		startup = cql.AppendString(cql.AppendString(startup, o[0]), o[1])
	}
	h, _, err := conn.roundTrip(cql.OpStartup, startup)
	if err == nil && h.Opcode != cql.OpReady {
		err = fmt.Errorf("STARTUP answered with opcode 0x%02x", h.Opcode)
	}
	conn.compressing = codec != nil
	if err == nil {
		conn.insertID, err = conn.prepare(cql.Insert)
	}
	if err == nil {
		conn.selectID, err = conn.prepare(cql.Select)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return conn, nil
}

func (c *connection) prepare(query string) ([]byte, error) {
	h, body, err := c.roundTrip(cql.OpPrepare, cql.AppendLongString(nil, query))
	if err != nil {
		return nil, err
	}
	if h.Opcode != cql.OpResult || len(body) < 4 || binary.BigEndian.Uint32(body) != 4 {
		return nil, fmt.Errorf("PREPARE %s: %s", query, describe(h, body))
	}
	id, ok := cql.ReadShortBytes(body[4:])
	if !ok {
		return nil, fmt.Errorf("PREPARE %s: no id in the answer", query)
	}
	return append([]byte(nil), id...), nil
}

// roundTrip sends one request on stream 0 and reads its answer (the handshake, before any loop).
func (c *connection) roundTrip(opcode byte, body []byte) (cql.Header, []byte, error) {
	c.send(0, opcode, body)
	if err := c.w.Flush(); err != nil {
		return cql.Header{}, nil, err
	}
	return c.read()
}

func (c *connection) send(stream int16, opcode byte, body []byte) {
	flags := byte(0)
	if c.compressing {
		c.packed = c.codec.compress(c.packed, body)
		body, flags = c.packed, cql.FlagCompression
	}
	var head [cql.HeaderLen]byte
	cql.AppendHeader(head[:0], cql.Header{Version: cql.Version, Flags: flags, Stream: stream, Opcode: opcode, Length: len(body)})
	c.w.Write(head[:])
	c.w.Write(body)
}

// read reads the next answer, decompressed when it comes compressed.
func (c *connection) read() (cql.Header, []byte, error) {
	h, body, err := cql.ReadFrame(c.r, c.in)
	c.in = body
	if err != nil || h.Flags&cql.FlagCompression == 0 {
		return h, body, err
	}
	if c.codec == nil {
		return h, nil, fmt.Errorf("a compressed answer on a connection without compression")
	}
	c.unpacked, err = c.codec.decompress(c.unpacked, body)
	return h, c.unpacked, err
}

// execute sends EXECUTE of the write (k, v, n) or of the read (k) for sequence number i (spec v4 §4.1.6).
func (c *connection) execute(stream int16, write bool, i int) {
	var key, n [8]byte
	binary.BigEndian.PutUint64(key[:], uint64((i*7919)%50_000))
	binary.BigEndian.PutUint32(n[:], uint32(i))
	b := c.body[:0]
	if write {
		b = cql.AppendShortBytes(b, c.insertID)
	} else {
		b = cql.AppendShortBytes(b, c.selectID)
	}
	b = append(cql.AppendShort(b, consistencyOne), flagValues)
	if write {
		b = cql.AppendShort(b, 3)
		b = cql.AppendBytes(b, key[:])
		c.value = strconv.AppendInt(append(c.value[:0], "value-"...), int64(i), 10)
		b = cql.AppendBytes(b, c.value)
		b = cql.AppendBytes(b, n[:4])
	} else {
		b = cql.AppendBytes(cql.AppendShort(b, 1), key[:])
	}
	c.body = b
	c.send(stream, cql.OpExecute, b)
}

// tally is what one connection saw within the measuring window.
type tally struct {
	ops, errors int
	firstError  string
	latencies   []time.Duration
}

// loop runs `streams` closed loops (each stream sends its next request when its answer arrives)
// until `end`, then waits for the answers still due. Answers arriving in [start, end) count.
func (c *connection) loop(write bool, streams int, start, end time.Time, seq int) (tally, error) {
	var t tally
	sent := make([]time.Time, streams)
	next := func(s int) {
		c.execute(int16(s), write, seq)
		seq++
		sent[s] = time.Now()
	}
	for s := range streams {
		next(s)
	}
	pending := streams
	for pending > 0 {
		if !cql.HasFrame(c.r) {
			if err := c.w.Flush(); err != nil {
				return t, err
			}
		}
		h, body, err := c.read()
		if err != nil {
			return t, err
		}
		now := time.Now()
		s := int(h.Stream)
		if s < 0 || s >= streams {
			continue // an event (stream -1)
		}
		pending--
		if !now.Before(start) && now.Before(end) {
			if h.Opcode == cql.OpResult {
				t.ops++
				t.latencies = append(t.latencies, now.Sub(sent[s]))
			} else {
				t.errors++
				if t.firstError == "" {
					t.firstError = describe(h, body)
				}
			}
		}
		if now.Before(end) {
			next(s)
			pending++
		}
	}
	return t, nil
}

// describe says what an unexpected answer was: an ERROR's message (spec v4 §4.2.1), or its opcode.
func describe(h cql.Header, body []byte) string {
	if h.Opcode == cql.OpError && len(body) >= 6 {
		n := int(binary.BigEndian.Uint16(body[4:]))
		if len(body) >= 6+n {
			return fmt.Sprintf("error 0x%04x: %s", binary.BigEndian.Uint32(body), body[6:6+n])
		}
	}
	return fmt.Sprintf("opcode 0x%02x", h.Opcode)
}
