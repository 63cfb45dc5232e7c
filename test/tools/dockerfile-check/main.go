// Command dockerfile-check parses a Dockerfile with BuildKit's own parser (the one `docker build`
// uses), runs BuildKit's build checks on it (those of `docker build --check`, experimental rules
// included) and prints what it found as JSON, so a test can assert on the stages and instructions.
// Usage: dockerfile-check PATH, or - to read standard input. A Dockerfile that does not parse exits with status 1 and the parser's message.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

type instruction struct {
	Keyword string   `json:"keyword"`
	Args    []string `json:"args"`
	Flags   []string `json:"flags"`
	Line    int      `json:"line"`
}

type stage struct {
	Name         string        `json:"name"`
	Base         string        `json:"base"`
	Instructions []instruction `json:"instructions"`
}

type report struct {
	Stages   []stage  `json:"stages"`
	Warnings []string `json:"warnings"`
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: dockerfile-check PATH (- for standard input)")
	}
	var input io.Reader = os.Stdin
	if os.Args[1] != "-" {
		file, err := os.Open(os.Args[1])
		if err != nil {
			fail(err.Error())
		}
		defer file.Close()
		input = file
	}
	parsed, err := parser.Parse(input)
	if err != nil {
		fail(fmt.Sprintf("%s does not parse: %v", os.Args[1], err))
	}
	out := report{Stages: []stage{}, Warnings: []string{}}
	for _, w := range parsed.Warnings {
		out.Warnings = append(out.Warnings, fmt.Sprintf("line %d: %s", w.Location.Start.Line, w.Short))
	}
	lint := linter.New(&linter.Config{
		ExperimentalAll: true,
		Warn: func(rule, _, _, message string, location []parser.Range) {
			line := 0
			if len(location) > 0 {
				line = location[0].Start.Line
			}
			out.Warnings = append(out.Warnings, fmt.Sprintf("line %d: %s: %s", line, rule, message))
		},
	})
	stages, _, err := instructions.Parse(parsed.AST, lint)
	if err != nil {
		fail(fmt.Sprintf("%s has an invalid instruction: %v", os.Args[1], err))
	}
	// The AST's top-level children are the instructions in order; each FROM opens the next stage.
	index := -1
	for _, node := range parsed.AST.Children {
		keyword := strings.ToLower(node.Value)
		if keyword == "from" {
			index++
			out.Stages = append(out.Stages, stage{Name: stages[index].Name, Base: stages[index].BaseName})
		}
		if index < 0 {
			continue // ARG before the first FROM
		}
		args := []string{}
		for next := node.Next; next != nil; next = next.Next {
			args = append(args, next.Value)
		}
		flags := node.Flags
		if flags == nil {
			flags = []string{}
		}
		current := &out.Stages[index]
		current.Instructions = append(current.Instructions, instruction{keyword, args, flags, node.StartLine})
	}
	encoded, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(encoded))
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(1)
}
