// Command null-cluster is a benchmark fixture, never a test double: a CQL native-protocol v4
// server that does no work, so that a benchmark of the proxy in front of it measures the proxy.
// It answers OPTIONS with SUPPORTED, STARTUP and REGISTER with READY, QUERY and EXECUTE with a
// precomputed RESULT (rows of system.local for a driver's start, one row for the benchmark's read,
// VOID for its write), PREPARE with a fixed PREPARED. Answers are built once per statement text;
// per request it only copies them with the request's stream id, and it writes its answers in
// batches (a flush when no whole request is left to read).
//
// Run (bench/proxy-scaling.ts builds and starts it):
//
//	go run ./null-cluster -listen 127.0.0.1:0
//
// It prints `listening ADDRESS:PORT` once it accepts connections, and on SIGTERM or SIGINT (or,
// with -stdin-lifeline, when its standard input closes), on stderr, how many requests it answered
// and its CPU time per request.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"zdm/bench/cql"
)

type server struct {
	mu     sync.RWMutex
	byText map[string]*statement
	byID   map[string]*statement
	// Requests answered, over all connections.
	requests  atomic.Int64
	ready     []byte
	supported []byte
	void      []byte
}

func newServer() *server {
	s := &server{byText: map[string]*statement{}, byID: map[string]*statement{}}
	s.ready = response(cql.OpReady, nil)
	s.supported = supported()
	s.void = statementFor("").result
	s.statement(cql.Insert)
	s.statement(cql.Select)
	return s
}

// statement is the statement of a text, built on first sight.
func (s *server) statement(text string) *statement {
	s.mu.RLock()
	st, ok := s.byText[text]
	s.mu.RUnlock()
	if ok {
		return st
	}
	st = statementFor(text)
	s.mu.Lock()
	s.byText[text] = st
	s.byID[string(st.id)] = st
	s.mu.Unlock()
	return st
}

// answer is the whole response frame to a request (stream id 0: the caller sets the request's).
func (s *server) answer(h cql.Header, body []byte) []byte {
	if h.Version != cql.Version {
		// What Cassandra says, so a driver trying a newer version steps down (spec v4 §8).
		return errorResponse(errProtocol, fmt.Sprintf("Invalid or unsupported protocol version (%d); supported versions are (4/v4)", h.Version), nil)
	}
	if h.Flags&cql.FlagCompression != 0 {
		return errorResponse(errProtocol, "null cluster: compression was not negotiated", nil)
	}
	switch h.Opcode {
	case cql.OpOptions:
		return s.supported
	case cql.OpStartup, cql.OpRegister:
		return s.ready
	case cql.OpQuery, cql.OpPrepare:
		text, ok := cql.ReadLongString(body)
		if !ok {
			return errorResponse(errProtocol, "null cluster: no query string", nil)
		}
		if st := s.statement(text); h.Opcode == cql.OpQuery {
			return st.result
		} else {
			return st.prepared
		}
	case cql.OpExecute:
		id, ok := cql.ReadShortBytes(body)
		if !ok {
			return errorResponse(errProtocol, "null cluster: no prepared id", nil)
		}
		s.mu.RLock()
		st := s.byID[string(id)]
		s.mu.RUnlock()
		if st == nil {
			return errorResponse(errUnprepared, "null cluster: unknown prepared id", cql.AppendShortBytes(nil, id))
		}
		return st.result
	case cql.OpBatch:
		return s.void
	default:
		return errorResponse(errProtocol, fmt.Sprintf("null cluster: opcode 0x%02x not served", h.Opcode), nil)
	}
}

func (s *server) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 64<<10)
	var buf []byte
	for {
		h, body, err := cql.ReadFrame(r, buf)
		buf = body
		if err != nil {
			return
		}
		frame := s.answer(h, body)
		s.requests.Add(1)
		var head [cql.HeaderLen]byte
		copy(head[:], frame)
		binary.BigEndian.PutUint16(head[2:], uint16(h.Stream))
		w.Write(head[:])
		w.Write(frame[cql.HeaderLen:])
		if !cql.HasFrame(r) && w.Flush() != nil {
			return
		}
	}
}

func cpuSeconds() float64 {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e9
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address:port to listen on (port 0: any free port)")
	lifeline := flag.Bool("stdin-lifeline", false, "stop when standard input closes (the parent went away)")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "null-cluster:", err)
		os.Exit(1)
	}
	s := newServer()
	fmt.Printf("listening %s\n", ln.Addr())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetNoDelay(true)
			go s.serve(c)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	if *lifeline {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			stop <- syscall.SIGTERM
		}()
	}
	<-stop
	n := s.requests.Load()
	cpu := cpuSeconds()
	fmt.Fprintf(os.Stderr, "null cluster %s: %d requests, %.2f s CPU, %.1f µs CPU per request\n",
		ln.Addr(), n, cpu, cpu/float64(max(n, 1))*1e6)
}
