// Command vulncheck runs govulncheck over jingdesk against an offline copy
// of the Go vulnerability database, and fails on any finding whose call
// trace reaches jingdesk's own code, unless scripts/vulncheck-accepted.txt
// names that advisory at that module version with the reason it cannot
// apply. Run it through scripts/vulncheck.sh, which picks the Go the
// release is built with.
//
// The web database (vuln.go.dev) cannot be reached from every machine that
// builds jingdesk, but the golang.org/x/vulndb module, which holds every
// advisory as OSV JSON, comes through the module proxy like any module.
// Its own indexdb command turns that folder into the database layout
// govulncheck reads with -db file:///…; the result is cached per vulndb
// version, so only the first run on a machine builds it.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// The pinned versions: change them together with a look at what changed.
const (
	govulncheck   = "golang.org/x/vuln/cmd/govulncheck@v1.9.0"
	vulndbModule  = "golang.org/x/vulndb"
	vulndbVersion = "v0.0.0-20261105234957-e22db6528018"
)

func main() {
	dbDir := flag.String("db", "", "vulnerability database folder (default: built from golang.org/x/vulndb@"+vulndbVersion+" into the user cache)")
	accepted := flag.String("accepted", "scripts/vulncheck-accepted.txt", "reviewed findings that may remain")
	flag.Parse()
	if err := run(*dbDir, *accepted, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(1)
	}
}

func run(dbDir, acceptedFile string, out io.Writer) error {
	if dbDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		dbDir = filepath.Join(cache, "jingdesk", "vulndb-"+vulndbVersion)
	}
	if err := ensureDB(dbDir, out); err != nil {
		return fmt.Errorf("build the vulnerability database: %w", err)
	}
	acc, err := readAccepted(acceptedFile)
	if err != nil {
		return err
	}
	var stream bytes.Buffer
	cmd := exec.Command("go", "run", govulncheck, "-db", "file://"+dbDir, "-format", "json", "./...")
	cmd.Stdout, cmd.Stderr = &stream, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("govulncheck: %w", err)
	}
	rep, err := parseReport(&stream)
	if err != nil {
		return err
	}
	return rep.judge(acc, out)
}

// ensureDB builds the database into dir unless a complete one is there.
func ensureDB(dir string, out io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, "index", "db.json")); err == nil {
		return nil
	}
	fmt.Fprintf(out, "building the vulnerability database from %s@%s into %s\n", vulndbModule, vulndbVersion, dir)
	// Outside the module, so nothing touches go.mod.
	work := os.TempDir()
	dl := exec.Command("go", "mod", "download", "-json", vulndbModule+"@"+vulndbVersion)
	dl.Dir, dl.Stderr = work, os.Stderr
	js, err := dl.Output()
	if err != nil {
		return fmt.Errorf("go mod download: %w", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(js, &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("go mod download gave no folder: %s", js)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".vulndb-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	out2 := filepath.Join(tmp, "db")
	idx := exec.Command("go", "run", vulndbModule+"/cmd/indexdb@"+vulndbVersion,
		"-vulns", filepath.Join(mod.Dir, "data", "osv"), "-out", out2)
	idx.Dir, idx.Stdout, idx.Stderr = work, os.Stderr, os.Stderr
	if err := idx.Run(); err != nil {
		return fmt.Errorf("indexdb: %w", err)
	}
	os.RemoveAll(dir)
	return os.Rename(out2, dir)
}

// acceptance is one reviewed finding: an advisory at one module version.
type acceptance struct{ id, module, reason string }

func (a acceptance) key() string { return a.id + " " + a.module }

// readAccepted reads lines "GO-YYYY-NNNN module@version reason…"; # starts a comment.
func readAccepted(path string) (map[string]acceptance, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]acceptance{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	acc := map[string]acceptance{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 || !strings.HasPrefix(fields[0], "GO-") || !strings.Contains(fields[1], "@") {
			return nil, fmt.Errorf("%s:%d: want \"GO-… module@version reason\", got %q", path, n, line)
		}
		a := acceptance{id: fields[0], module: fields[1], reason: strings.Join(fields[2:], " ")}
		acc[a.key()] = a
	}
	return acc, sc.Err()
}

// frame is one step of a govulncheck call trace; the first is the
// vulnerable symbol, the last the entry in the scanned code.
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

func (f frame) String() string {
	name := f.Function
	if f.Receiver != "" {
		name = strings.TrimPrefix(f.Receiver, "*") + "." + name
	}
	name = f.Package + "." + name
	if f.Position != nil {
		name += fmt.Sprintf(" (%s:%d)", f.Position.Filename, f.Position.Line)
	}
	return name
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

// report is what one govulncheck run found.
type report struct {
	mainModule string
	summaries  map[string]string
	// reached: per "ID module@version", one trace into the scanned code.
	reached map[string]finding
	// imported: advisories in the dependencies that no call reaches.
	imported map[string]bool
}

// parseReport reads govulncheck's JSON stream (one object after another).
func parseReport(r io.Reader) (*report, error) {
	rep := &report{summaries: map[string]string{}, reached: map[string]finding{}, imported: map[string]bool{}}
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			SBOM *struct {
				Modules []struct {
					Path    string `json:"path"`
					Version string `json:"version"`
				} `json:"modules"`
			} `json:"SBOM"`
			OSV *struct {
				ID      string `json:"id"`
				Summary string `json:"summary"`
			} `json:"osv"`
			Finding *finding `json:"finding"`
		}
		err := dec.Decode(&msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read govulncheck's output: %w", err)
		}
		switch {
		case msg.SBOM != nil:
			for _, m := range msg.SBOM.Modules {
				if m.Version == "" { // the main module has no version
					rep.mainModule = m.Path
				}
			}
		case msg.OSV != nil:
			rep.summaries[msg.OSV.ID] = msg.OSV.Summary
		case msg.Finding != nil:
			rep.add(*msg.Finding)
		}
	}
	if rep.mainModule == "" {
		return nil, errors.New("govulncheck's output names no main module")
	}
	return rep, nil
}

func (rep *report) add(f finding) {
	if len(f.Trace) == 0 {
		return
	}
	vuln := f.Trace[0]
	key := f.OSV + " " + vuln.Module + "@" + vuln.Version
	if vuln.Function == "" || !rep.reachesMain(f.Trace) {
		rep.imported[key] = true
		return
	}
	if _, ok := rep.reached[key]; !ok {
		rep.reached[key] = f
	}
}

func (rep *report) reachesMain(trace []frame) bool {
	for _, fr := range trace[1:] {
		if fr.Module == rep.mainModule {
			return true
		}
	}
	return false
}

// judge prints every reached finding and fails unless each is accepted.
func (rep *report) judge(acc map[string]acceptance, out io.Writer) error {
	keys := make([]string, 0, len(rep.reached))
	for k := range rep.reached {
		keys = append(keys, k)
		delete(rep.imported, k)
	}
	sort.Strings(keys)
	var failing []string
	for _, k := range keys {
		f := rep.reached[k]
		id := f.OSV
		fixed := f.FixedVersion
		if fixed == "" {
			fixed = "no fixed version"
		}
		fmt.Fprintf(out, "%s: %s\n  in %s (fixed: %s)\n  reached from %s\n", k, rep.summaries[id], f.Trace[0], fixed, rep.entry(f.Trace))
		if a, ok := acc[k]; ok {
			fmt.Fprintf(out, "  accepted: %s\n", a.reason)
			delete(acc, k)
			continue
		}
		failing = append(failing, k)
	}
	fmt.Fprintf(out, "%d advisories in dependencies that no call from %s reaches (not failing)\n", len(rep.imported), rep.mainModule)
	for k := range acc {
		fmt.Fprintf(out, "scripts/vulncheck-accepted.txt: %s is no longer found: remove the line\n", k)
	}
	if len(failing) > 0 {
		return fmt.Errorf("%d advisories reach %s's code: %s (upgrade the module or Go; see above)",
			len(failing), rep.mainModule, strings.Join(failing, ", "))
	}
	fmt.Fprintf(out, "no advisory reaches %s's code unreviewed\n", rep.mainModule)
	return nil
}

// entry is the frame of the scanned code closest to the vulnerable symbol.
func (rep *report) entry(trace []frame) frame {
	for _, fr := range trace[1:] {
		if fr.Module == rep.mainModule {
			return fr
		}
	}
	return trace[len(trace)-1]
}
