package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/testkit"
)

// The tenant's parts are being filled in by several domains at once, so
// these tests compare the whole tenant as JSON rather than any one part.

func persistTestConfig(t testing.TB) Config {
	return Config{Seed: 3, Persons: 300, Leads: 80, StatePath: filepath.Join(t.TempDir(), "state", "sandbox.json")}
}

func snapshotTenant(t testing.TB, s *Server) []byte {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(s.tenant)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// changeMembersForTest renames a member and adds one, as a handler would (s.mu held).
func changeMembersForTest(s *Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tenant.Members[0].Name = "欧阳测试"
	s.tenant.Members = append(s.tenant.Members, &member{ID: 19999, Name: "新同事", Email: "new@demo-tenant.cn", Department: "市场部", Status: "active"})
	s.markChanged()
}

func TestStatePersistsAcrossRestart(t *testing.T) {
	t.Parallel()
	cfg := persistTestConfig(t)
	run, err := Start(cfg, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	changeMembersForTest(run.Server)
	before := snapshotTenant(t, run.Server)
	if err := run.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	info, err := os.Stat(cfg.StatePath)
	if err != nil {
		t.Fatalf("no state saved on close: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("state file mode %v, want 0600", perm)
	}
	after := snapshotTenant(t, New(cfg))
	if !bytes.Equal(before, after) {
		t.Fatalf("tenant changed across a restart:\nbefore %.300s\nafter  %.300s", before, after)
	}
	fresh := cfg
	fresh.StatePath = ""
	if bytes.Equal(after, snapshotTenant(t, New(fresh))) {
		t.Fatal("the restarted tenant is a fresh seed: the change was not kept")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(cfg.StatePath), ".*tmp*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestStateSavedSoonAfterAChange(t *testing.T) {
	t.Parallel()
	cfg := persistTestConfig(t)
	s := New(cfg)
	s.state.delay = 10 * time.Millisecond
	s.startBackground()
	defer s.stopBackground()

	changeMembersForTest(s)
	testkit.WaitFor(t, "the change saved", func() bool {
		b, err := os.ReadFile(cfg.StatePath)
		return err == nil && strings.Contains(string(b), "欧阳测试")
	})
	// emit marks the state changed too: every lead change emits.
	s.mu.Lock()
	s.tenant.Members[1].Name = "经由事件"
	s.emit(testLeadEvent(1))
	s.mu.Unlock()
	testkit.WaitFor(t, "the emitted change saved", func() bool {
		b, err := os.ReadFile(cfg.StatePath)
		return err == nil && strings.Contains(string(b), "经由事件")
	})
}

func TestUnchangedStateIsNotRewritten(t *testing.T) {
	t.Parallel()
	cfg := persistTestConfig(t)
	s := New(cfg)
	s.stopBackground()
	if _, err := os.Stat(cfg.StatePath); !os.IsNotExist(err) {
		t.Fatalf("a fresh, unchanged seed was written: %v", err)
	}
	s = New(cfg)
	s.mu.Lock()
	s.tenant.Members[0].Name = "改过一次"
	s.markChanged()
	s.mu.Unlock()
	s.stopBackground() // the change is saved once
	first, err := os.Stat(cfg.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	again := New(cfg)
	again.startBackground()
	again.stopBackground()
	second, err := os.Stat(cfg.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	if !second.ModTime().Equal(first.ModTime()) {
		t.Error("an unchanged tenant was written again")
	}
}

func TestBrokenStateFileIsKeptAndTenantReseeded(t *testing.T) {
	t.Parallel()
	cfg := persistTestConfig(t)
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	os.MkdirAll(filepath.Dir(cfg.StatePath), 0o700)
	for _, bad := range []string{`{"mid":"124","members":[{"id":"not a number"}]`, `{}`} {
		if err := os.WriteFile(cfg.StatePath, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		s := New(cfg)
		fresh := cfg
		fresh.StatePath = ""
		if !bytes.Equal(snapshotTenant(t, s), snapshotTenant(t, New(fresh))) {
			t.Errorf("%s: tenant is not a fresh seed", bad)
		}
		if _, err := os.Stat(cfg.StatePath); err == nil {
			t.Errorf("%s: the broken file is still in place", bad)
		}
		s.stopBackground()
		if _, err := New(cfg).state.load(); err != nil {
			t.Errorf("%s: the fresh tenant was not saved: %v", bad, err)
		}
	}
	kept, _ := filepath.Glob(cfg.StatePath + "*.broken")
	if len(kept) != 2 {
		t.Fatalf("broken files kept: %v, want both", kept)
	}
	first, _ := os.ReadFile(cfg.StatePath + ".broken")
	if !strings.HasPrefix(string(first), `{"mid":"124","members":[{"id":"not a number"}]`) {
		t.Errorf("kept file is %q, not the broken original", first)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), ".broken") {
		t.Errorf("no warning naming the kept file:\n%s", logs.String())
	}
}

// BenchmarkStateSaveDefaultTenant measures saving the default-size tenant
// (20,000 persons, 3,000 leads):
//
//	go test ./internal/jing/sandbox -run '^$' -bench State -benchtime 10x
func BenchmarkStateSaveDefaultTenant(b *testing.B) {
	s := New(Config{Seed: 1, StatePath: filepath.Join(b.TempDir(), "sandbox.json")})
	for b.Loop() {
		s.markChanged()
		if err := s.saveState(); err != nil {
			b.Fatal(err)
		}
	}
	if info, err := os.Stat(s.cfg.StatePath); err == nil {
		b.ReportMetric(float64(info.Size())/1e6, "MB")
	}
}

// BenchmarkStateLoadDefaultTenant measures loading it back (New's cost with a state file).
func BenchmarkStateLoadDefaultTenant(b *testing.B) {
	cfg := Config{Seed: 1, StatePath: filepath.Join(b.TempDir(), "sandbox.json")}
	s := New(cfg) // an unchanged tenant is not saved: mark it changed
	s.markChanged()
	if err := s.saveState(); err != nil {
		b.Fatal(err)
	}
	s.stopBackground()
	st := newStateStore(cfg.StatePath, false, slog.Default())
	for b.Loop() {
		if _, err := st.load(); err != nil {
			b.Fatal(err)
		}
	}
}

// A read-only sandbox (jingdesk check beside a running console) serves the
// saved tenant, and writes nothing: neither the state nor the ledger, even
// after changes, tokens issued and ids handed out, nor does it move a file
// that does not load.
func TestAReadOnlySandboxServesTheSavedStateAndWritesNothing(t *testing.T) {
	t.Parallel()
	cfg := persistTestConfig(t)
	run, err := Start(cfg, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	changeMembersForTest(run.Server)
	saved := snapshotTenant(t, run.Server)
	if err := run.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	ledgerFile := ledgerPath(cfg.StatePath)
	os.WriteFile(ledgerFile, []byte(`{"reserved":{"crowd_group_id":5000},"tokens":{}}`), 0o600)
	state, _ := os.ReadFile(cfg.StatePath)
	ledger, _ := os.ReadFile(ledgerFile)

	ro := cfg
	ro.ReadOnlyState = true
	r := startRestartable(t, ro)
	if !bytes.Equal(snapshotTenant(t, r.s), saved) {
		t.Fatal("the read-only sandbox does not serve the saved tenant")
	}
	r.s.state.delay = time.Millisecond // a save would come at once
	changeMembersForTest(r.s)
	r.s.mu.Lock()
	id := r.s.nextID("crowd_group_id")
	for range 150 { // past a block: a writable ledger would be saved
		r.s.nextID("crowd_group_id")
	}
	r.s.mu.Unlock()
	if id < 5000 {
		t.Fatalf("group id %d below the ledger's reservation", id)
	}
	if _, err := r.c.EnsureToken(context.Background()); err != nil { // a token issued
		t.Fatal(err)
	}
	r.Stop()
	if s, _ := os.ReadFile(cfg.StatePath); !bytes.Equal(s, state) {
		t.Error("the read-only sandbox wrote the state")
	}
	if l, _ := os.ReadFile(ledgerFile); !bytes.Equal(l, ledger) {
		t.Errorf("the read-only sandbox wrote the ledger: %s", l)
	}

	os.WriteFile(cfg.StatePath, []byte(`{`), 0o600)
	New(ro)
	if b, _ := os.ReadFile(cfg.StatePath); string(b) != `{` {
		t.Fatal("the read-only sandbox moved a file that did not load")
	}
	if kept, _ := filepath.Glob(cfg.StatePath + "*.broken"); len(kept) != 0 {
		t.Fatalf("kept aside: %v", kept)
	}
}

// The state file is written and read a piece at a time (jsonstream.go):
// it must say exactly what json.Marshal of the whole tenant says, and read
// back exactly as json.Unmarshal reads it, empty and absent parts included.
func TestStateStreamsAsMarshal(t *testing.T) {
	t.Parallel()
	s := New(Config{Seed: 3, Persons: 300, Leads: 80})
	ten := s.tenant
	ten.Leads.Voided = append(ten.Leads.Voided, ten.Leads.Leads[0]) // an omitempty list, filled
	ten.People.Crowds[0].Members = []crowdMember{}                  // empty, not absent
	ten.People.Crowds = append(ten.People.Crowds, nil)              // a null in a walked list
	ten.People.Persons[0].Custom = map[string]any{"vip": true, "note": "<b>&"}
	ten.Sends.ActivityCleared = map[string]int64{ten.People.Persons[1].UUID: 1700000000}
	want, err := json.Marshal(ten)
	if err != nil {
		t.Fatal(err)
	}
	var streamed bytes.Buffer
	if err := encodeStream(&streamed, ten); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, streamed.Bytes()); err != nil {
		t.Fatalf("streamed state is not JSON: %v", err)
	}
	if !bytes.Equal(compact.Bytes(), want) {
		t.Fatalf("streamed state differs from json.Marshal (%d bytes vs %d)", compact.Len(), len(want))
	}

	var unmarshalled, decoded tenant
	if err := json.Unmarshal(want, &unmarshalled); err != nil {
		t.Fatal(err)
	}
	if err := decodeStream(bytes.NewReader(streamed.Bytes()), &decoded); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(decoded, unmarshalled) {
		t.Fatal("the state read a piece at a time differs from json.Unmarshal's")
	}
	if err := decodeStream(strings.NewReader(string(want)+`{}`), &decoded); err == nil {
		t.Error("a second value after the state was accepted")
	}
}
