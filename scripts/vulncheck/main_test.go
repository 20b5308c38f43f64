package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadReport(t *testing.T) *report {
	t.Helper()
	f, err := os.Open("testdata/report.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := parseReport(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func writeAccepted(t *testing.T, text string) map[string]acceptance {
	t.Helper()
	path := filepath.Join(t.TempDir(), "accepted.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	acc, err := readAccepted(path)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// A standard-library advisory whose trace reaches the project fails the
// check; one in a required module that nothing calls does not.
func TestAReachedAdvisoryFailsAndAnUncalledOneDoesNot(t *testing.T) {
	rep := loadReport(t)
	acc := writeAccepted(t, "GO-2026-6872 github.com/labstack/echo/v4@v4.16.5 not used: we set the IP extractor\n")
	var out strings.Builder
	err := rep.judge(acc, &out)
	if err == nil || !strings.Contains(err.Error(), "GO-2026-6617 stdlib@v1.26.8") {
		t.Fatalf("err = %v, want the net/http advisory named", err)
	}
	if strings.Contains(err.Error(), "GO-2026-5932") || strings.Contains(err.Error(), "GO-2026-6872") {
		t.Fatalf("an uncalled or accepted advisory failed the check: %v", err)
	}
	for _, want := range []string{"reached from github.com/jingdesk/jingdesk/internal/app.serve (internal/app/serve.go:200)",
		"accepted: not used", "1 advisories in dependencies that no call"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// An acceptance names a module version: after an upgrade the same
// advisory must be looked at again.
func TestAnAcceptanceHoldsForOneModuleVersionOnly(t *testing.T) {
	rep := loadReport(t)
	delete(rep.reached, "GO-2026-6617 stdlib@v1.26.8")
	acc := writeAccepted(t, "GO-2026-6872 github.com/labstack/echo/v4@v4.16.0 reviewed for the old version\n")
	var out strings.Builder
	if err := rep.judge(acc, &out); err == nil || !strings.Contains(err.Error(), "GO-2026-6872") {
		t.Fatalf("err = %v, want the advisory at the new version to fail", err)
	}
	if !strings.Contains(out.String(), "echo/v4@v4.16.0 is no longer found") {
		t.Errorf("the stale acceptance is not pointed out:\n%s", out.String())
	}
	acc = writeAccepted(t, "GO-2026-6872 github.com/labstack/echo/v4@v4.16.5 reviewed\n")
	if err := rep.judge(acc, &out); err != nil {
		t.Fatalf("accepted finding still fails: %v", err)
	}
}

func TestAMalformedAcceptanceIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accepted.txt")
	os.WriteFile(path, []byte("GO-2026-6872 no reason\n"), 0o644)
	if _, err := readAccepted(path); err == nil {
		t.Fatal("a line without module@version was accepted")
	}
}
