// Command cql-load is the proxy scaling benchmark's load generator: raw CQL native protocol v4
// over a few connections with many requests in flight, prepared EXECUTE of the benchmark's write
// and read, optionally with LZ4 or Snappy frame bodies (spec v4 §5). Written in Go so that it
// needs little CPU per request, leaving the machine's cores to the proxy it measures.
//
// Run (bench/proxy-scaling.ts builds and starts it):
//
//	go run ./cql-load -address 127.0.0.1:9042 -phases write,read -seconds 10
//
// For each phase it runs closed loops (each stream id sends its next request when its answer
// arrives) for -warmup then -seconds, and prints JSON lines on stdout: {"event":"start"} when the
// measured window opens, {"event":"end"} when it closes (a caller samples other processes' CPU
// time at both), then {"event":"result",...} with the requests answered within the window, their
// p50/p99 latency, the errors, and this process's own CPU seconds within the window.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

type result struct {
	Event        string  `json:"event"`
	Phase        string  `json:"phase"`
	Ops          int     `json:"ops,omitempty"`
	OpsPerSecond float64 `json:"opsPerSecond,omitempty"`
	P50Ms        float64 `json:"p50Ms,omitempty"`
	P99Ms        float64 `json:"p99Ms,omitempty"`
	Errors       int     `json:"errors"`
	FirstError   string  `json:"firstError,omitempty"`
	CPUSeconds   float64 `json:"cpuSeconds,omitempty"`
}

var emitting sync.Mutex

func emit(r result) {
	line, _ := json.Marshal(r)
	emitting.Lock()
	defer emitting.Unlock()
	os.Stdout.Write(append(line, '\n'))
}

func cpuSeconds() float64 {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e9
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cql-load:", err)
	os.Exit(1)
}

func main() {
	address := flag.String("address", "127.0.0.1:9042", "host:port of the proxy (or of any CQL v4 server)")
	connections := flag.Int("connections", 4, "connections")
	concurrency := flag.Int("concurrency", 128, "requests in flight in all, spread over the connections")
	compression := flag.String("compression", "none", "frame body compression: none, lz4 or snappy")
	phases := flag.String("phases", "write,read", "phases in order: write (prepared INSERT), read (prepared SELECT)")
	seconds := flag.Float64("seconds", 10, "measured seconds per phase")
	warmup := flag.Float64("warmup", 2, "unmeasured seconds before each phase's window")
	flag.Parse()
	streams := *concurrency / *connections
	if streams < 1 || streams > 32768 {
		fail(fmt.Errorf("-concurrency %d over -connections %d gives %d streams per connection: must be 1 to 32768", *concurrency, *connections, streams))
	}
	conns := make([]*connection, *connections)
	for i := range conns {
		codec, err := codecNamed(*compression)
		if err != nil {
			fail(err)
		}
		if conns[i], err = dial(*address, codec); err != nil {
			fail(fmt.Errorf("connection %d to %s: %w", i, *address, err))
		}
	}
	for _, phase := range strings.Split(*phases, ",") {
		if phase != "write" && phase != "read" {
			fail(fmt.Errorf("unknown phase %q: use write or read", phase))
		}
		run(phase, conns, streams, time.Duration(*warmup*float64(time.Second)), time.Duration(*seconds*float64(time.Second)))
	}
}

// run runs one phase on every connection at once and reports it.
func run(phase string, conns []*connection, streams int, warmup, measured time.Duration) {
	start := time.Now().Add(warmup)
	end := start.Add(measured)
	var cpuAtStart, cpuAtEnd float64
	time.AfterFunc(time.Until(start), func() {
		cpuAtStart = cpuSeconds()
		emit(result{Event: "start", Phase: phase})
	})
	ended := make(chan struct{})
	time.AfterFunc(time.Until(end), func() {
		cpuAtEnd = cpuSeconds()
		emit(result{Event: "end", Phase: phase})
		close(ended)
	})
	tallies := make([]tally, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			// Each connection its own sequence numbers, so their keys and values differ.
			if tallies[i], err = c.loop(phase == "write", streams, start, end, i<<32); err != nil {
				fail(fmt.Errorf("connection %d: %w", i, err))
			}
		}()
	}
	wg.Wait()
	<-ended // the loops stop sending at the end, so this has come already
	r := result{Event: "result", Phase: phase}
	var latencies []time.Duration
	for _, t := range tallies {
		r.Ops += t.ops
		r.Errors += t.errors
		if r.FirstError == "" {
			r.FirstError = t.firstError
		}
		latencies = append(latencies, t.latencies...)
	}
	slices.Sort(latencies)
	at := func(q float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[min(len(latencies)-1, int(q*float64(len(latencies))))]) / 1e6
	}
	r.OpsPerSecond = float64(r.Ops) / measured.Seconds()
	r.P50Ms, r.P99Ms = at(0.5), at(0.99)
	r.CPUSeconds = cpuAtEnd - cpuAtStart
	emit(r)
}
