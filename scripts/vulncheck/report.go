//go:build ignore

// Command report reads `govulncheck -format json` on stdin and applies the
// project's policy (docs/toolchain-policy.md): a vulnerability in a module
// dependency that the code calls fails the check; one in the standard
// library is reported with the Go release that fixes it and fails the check
// too, unless -stdlib=report; findings the code does not reach are listed
// for information.
//
//	govulncheck -format json ./... | go run scripts/vulncheck/report.go
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
	} `json:"position"`
}

type message struct {
	Config *struct {
		ScannerVersion string `json:"scanner_version"`
		DB             string `json:"db"`
		GoVersion      string `json:"go_version"`
		ScanLevel      string `json:"scan_level"`
	} `json:"config"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

// Levels of a finding: the code calls the vulnerable symbol, imports the
// package, or only requires the module.
const (
	levelModule = iota
	levelPackage
	levelCalled
)

var levelName = map[int]string{levelCalled: "called", levelPackage: "imported, not called", levelModule: "required, not imported"}

type vuln struct {
	id, summary, module, version, fixed, where, example string
	level                                               int
}

func main() {
	stdlibPolicy := flag.String("stdlib", "fail", "fail or report: what a called standard-library vulnerability does")
	flag.Parse()
	if *stdlibPolicy != "fail" && *stdlibPolicy != "report" {
		fmt.Fprintf(os.Stderr, "vulncheck: -stdlib=%s: want fail or report\n", *stdlibPolicy)
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout, *stdlibPolicy == "fail"); err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer, failOnStdlib bool) error {
	dec := json.NewDecoder(in)
	summaries := map[string]string{}
	vulns := map[string]*vuln{}
	goVersion, db := "", ""
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("reading govulncheck output: %w", err)
		}
		switch {
		case m.Config != nil:
			goVersion, db = m.Config.GoVersion, m.Config.DB
		case m.OSV != nil:
			summaries[m.OSV.ID] = m.OSV.Summary
		case m.Finding != nil && len(m.Finding.Trace) > 0:
			f := m.Finding
			top := f.Trace[0]
			level := levelModule
			if top.Package != "" {
				level = levelPackage
			}
			if top.Function != "" {
				level = levelCalled
			}
			v, ok := vulns[f.OSV]
			if !ok {
				v = &vuln{id: f.OSV, module: top.Module, version: top.Version, fixed: f.FixedVersion, level: -1}
				vulns[f.OSV] = v
			}
			if level > v.level {
				v.level = level
				v.where = top.Module + "@" + top.Version
				if top.Package != "" {
					v.where = top.Package + "@" + top.Version
				}
				v.example = ""
				if level == levelCalled {
					v.example = example(f.Trace)
				}
			}
		}
	}
	if goVersion == "" {
		return errors.New("no govulncheck config message: did the scan run?")
	}
	var deps, std []*vuln
	for _, v := range vulns {
		v.summary = summaries[v.id]
		if v.module == "stdlib" || v.module == "toolchain" {
			v.version, v.fixed = goRelease(v.version), goRelease(v.fixed)
			v.where = strings.Replace(v.where, "@v", "@go", 1)
			std = append(std, v)
		} else {
			deps = append(deps, v)
		}
	}
	fmt.Fprintf(out, "govulncheck with %s, database %s\n", goVersion, db)
	depsCalled := section(out, "module dependencies (a called one fails the check)", deps)
	stdCalled := section(out, "standard library of "+goVersion+" (fixed by the toolchain: docs/toolchain-policy.md)", std)
	switch {
	case depsCalled > 0:
		return fmt.Errorf("%d vulnerabilities in module dependencies are reachable from the code: upgrade the module to its fixed version", depsCalled)
	case stdCalled > 0 && failOnStdlib:
		return fmt.Errorf("%d standard-library vulnerabilities are reachable (-stdlib=fail)", stdCalled)
	}
	if failOnStdlib {
		fmt.Fprintf(out, "vulncheck: OK: no reachable vulnerability in the project's module dependencies or in the standard library of %s\n", goVersion)
		return nil
	}
	fmt.Fprintf(out, "vulncheck: OK: no reachable vulnerability in the project's module dependencies (%d reachable in the standard library of %s, not checked: -stdlib=report)\n", stdCalled, goVersion)
	return nil
}

// section prints vulns by level and returns how many are called.
func section(out io.Writer, title string, vulns []*vuln) int {
	fmt.Fprintf(out, "\n%s:\n", title)
	if len(vulns) == 0 {
		fmt.Fprintln(out, "  none")
		return 0
	}
	sort.Slice(vulns, func(i, j int) bool {
		if vulns[i].level != vulns[j].level {
			return vulns[i].level > vulns[j].level
		}
		return vulns[i].id < vulns[j].id
	})
	called := 0
	for _, v := range vulns {
		if v.level == levelCalled {
			called++
		}
		fmt.Fprintf(out, "  %-13s %-24s %s, fixed in %s: %s\n", v.id, levelName[v.level], v.where, orNone(v.fixed), v.summary)
		if v.example != "" {
			fmt.Fprintf(out, "  %13s e.g. %s\n", "", v.example)
		}
	}
	return called
}

// example renders a call trace from the code's entry point to the
// vulnerable symbol.
func example(trace []frame) string {
	var parts []string
	for i := len(trace) - 1; i >= 0; i-- {
		f := trace[i]
		name := f.Function
		if f.Receiver != "" {
			name = strings.TrimPrefix(f.Receiver, "*") + "." + name
		}
		name = f.Package[strings.LastIndex(f.Package, "/")+1:] + "." + name
		if i == len(trace)-1 && f.Position != nil {
			name += fmt.Sprintf(" (%s:%d)", f.Position.Filename, f.Position.Line)
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, " -> ")
}

// goRelease turns govulncheck's semver form of a Go release (v1.26.9)
// into the release name (go1.26.9).
func goRelease(v string) string {
	if strings.HasPrefix(v, "v") {
		return "go" + v[1:]
	}
	return v
}

func orNone(s string) string {
	if s == "" {
		return "no fixed version"
	}
	return s
}
