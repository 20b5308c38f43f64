package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/backup"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"golang.org/x/net/html"
)

func withSystem(dataDir string) harnessOption {
	return func(d *Deps) {
		d.Build = BuildInfo{Version: "v1.4.0", Commit: "abc1234", Date: "2031-02-03T04:05:06Z"}
		d.DataDir = dataDir
		d.StartedAt = time.Now().Add(-(26*time.Hour + 5*time.Minute))
		d.MetricsAddr = "127.0.0.1:9464"
	}
}

// text is the System page's text (its data-testid="system-page"), as a
// reader sees it.
func text(t testing.TB, body string) string { return spacedText(parsePage(t, body).one("system-page")) }

func TestSystemPageShowsBuildDataJobsAndBackups(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	h, admin := platformAdmin(t, withPlatform(t, nil), withSystem(dataDir))
	ctx := context.Background()
	root, _ := h.store.UserByName(ctx, "root")
	if err := h.store.SetUserLang(ctx, root.ID, i18n.English); err != nil {
		t.Fatal(err)
	}
	h.addJob(root, "Queued one", db.JobQueued)
	h.addJob(root, "Failed one", db.JobFailed)

	rec := admin.get("/settings/system")
	if rec.Code != http.StatusOK {
		t.Fatalf("system page: %d", rec.Code)
	}
	page := rec.Body.String()
	txt := text(t, page)
	for _, want := range []string{"v1.4.0", "abc1234", "2031-02-03T04:05:06Z", "1 d 2 h 5 min", dataDir,
		"Sandbox", "No backup yet.", "jingdesk backup FILE", "http://example.com/metrics", "http://127.0.0.1:9464/metrics"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	jobCounts := map[string]string{}
	for _, dd := range parseHTML(page).all("system-job-count") {
		jobCounts[attrOf(dd, "data-state")] = nodeText(dd)
	}
	for state, n := range map[string]string{"queued": "1", "failed": "1", "running": "0"} {
		if jobCounts[state] != n {
			t.Errorf("jobs %s: %q, want %s", state, jobCounts[state], n)
		}
	}
	if !parseHTML(page).linksTo("/settings/webhooks?state=failed") {
		t.Error("webhook counts do not link to the events")
	}
	if !currentTab(page, "system", "/settings/system") {
		t.Error("no active System tab")
	}
	file, wal := h.store.FileSizes()
	if file == 0 {
		t.Fatal("the database file has no size")
	}
	if !strings.Contains(txt, "file "+humanBytesForTest(file)) || !strings.Contains(txt, "write-ahead log "+humanBytesForTest(wal)) {
		t.Errorf("database sizes (%d, %d) not shown: %s", file, wal, txt)
	}

	// Backups: the newest matching archive wins; other files do not count.
	dir := filepath.Join(dataDir, "backups")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-3 * time.Hour)
	for i, f := range []struct {
		name string
		size int
	}{{"jingdesk-20310101-0300.tar.gz", 10}, {"pre-upgrade-20310102.tar.gz", 3 * 1024 * 1024}, {"notes.txt", 1}, {"jingdesk-partial.tar.gz.tmp", 1}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, make([]byte, f.size), 0o600); err != nil {
			t.Fatal(err)
		}
		at := base.Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	txt = text(t, admin.get("/settings/system").Body.String())
	if !strings.Contains(txt, "pre-upgrade-20310102.tar.gz") || !strings.Contains(txt, "3.0 MiB") || strings.Contains(txt, "No backup yet") {
		t.Errorf("the newest backup is not shown: %s", txt)
	}
	if strings.Contains(txt, "notes.txt") || strings.Contains(txt, ".tmp") {
		t.Error("a file that is no backup is shown as one")
	}

	// Chinese: every string translated (the harness fails on a missing id).
	if err := h.store.SetUserLang(ctx, root.ID, i18n.Chinese); err != nil {
		t.Fatal(err)
	}
	if txt := text(t, admin.get("/settings/system").Body.String()); !strings.Contains(txt, "最近一次备份") || !strings.Contains(txt, "1 天 2 小时 5 分钟") {
		t.Errorf("Chinese page: %s", txt)
	}
}

// humanBytesForTest is the page's size format ("12 B", "3.0 MiB"), written out again.
func humanBytesForTest(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, "KiB"
	for _, u := range []string{"MiB", "GiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

func TestSystemPageIsForAdministrators(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withSystem(t.TempDir()))
	h.addUser("vic", db.RoleViewer)
	h.addUser("mia", db.RoleMarketer)
	for _, name := range []string{"vic", "mia"} {
		c := h.login(name)
		if rec := c.get("/settings/system"); rec.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, rec.Code)
		}
		if hasTestID(c.get("/settings/account").Body.String(), "settings-tab-system") {
			t.Errorf("%s sees the System tab", name)
		}
	}
	if testIDAttrs(admin.get("/settings/account").Body.String(), "settings-tab-system", "href")[0] != "/settings/system" {
		t.Error("the administrator has no System tab")
	}
	if rec := admin.get("/settings/system"); rec.Code != http.StatusOK {
		t.Fatalf("the administrator: %d", rec.Code)
	}
}

// The scheduled backups' interval and retention are settings an
// administrator changes on the System page; nonsense is refused.
func TestTheBackupScheduleIsASetting(t *testing.T) {
	t.Parallel()
	h, admin := platformAdmin(t, withSystem(t.TempDir()))
	ctx := context.Background()
	if len(parseHTML(admin.get("/settings/system").Body.String()).where("input", "name", "every_hours", "min", "0", "max", "720", "value", "24")) != 1 {
		t.Fatal("the default schedule (24 h) is not shown")
	}
	if rec := admin.post("/settings/system/backups", url.Values{"every_hours": {"12"}, "keep": {"3"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("save: %d", rec.Code)
	}
	get := func(key string) (string, error) { return h.store.Setting(ctx, key) }
	if sc := backup.ScheduleFrom(get); sc.Every != 12*time.Hour || sc.Keep != 3 {
		t.Fatalf("schedule after saving: %+v", sc)
	}
	admin.post("/settings/system/backups", url.Values{"every_hours": {"-1"}, "keep": {"0"}})
	if sc := backup.ScheduleFrom(get); sc.Every != 12*time.Hour || sc.Keep != 3 {
		t.Fatalf("a refused change was saved: %+v", sc)
	}
	h.addUser("mia", db.RoleMarketer)
	if rec := h.login("mia").post("/settings/system/backups", url.Values{"every_hours": {"1"}, "keep": {"1"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("a marketer: %d", rec.Code)
	}
}

// spaceRow is the Storage card's row of table.
func spaceRow(p page, table string) *html.Node {
	for _, n := range p.all("system-space-row") {
		if attrOf(n, "data-table") == table {
			return n
		}
	}
	return nil
}

// The System page shows what takes the room, table by table (rows, bytes,
// planner statistics, how long it is kept), and the retention of import
// rows and score history is a setting an administrator changes there;
// nonsense and other roles are refused.
func TestTheSystemPageShowsTheSpaceAndTheRetention(t *testing.T) {
	t.Parallel()
	var rig crowdsRig
	h, admin := platformAdmin(t, withCrowdsRunner(t, &rig, false), withSystem(t.TempDir()))
	ctx := context.Background()
	root, _ := h.store.UserByName(ctx, "root")
	if err := h.store.SetUserLang(ctx, root.ID, i18n.English); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got := []db.FetchedScore{{ID: "a", Model: "m", Score: float64(i)}, {ID: "b", Model: "m", Score: float64(10 + i)}}
		if _, err := h.store.SaveScores(ctx, db.SubjectLead, db.ScoreIdentity, []string{"a", "b"}, got, int64(1_790_000_000+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.store.Optimize(ctx); err != nil {
		t.Fatal(err)
	}

	p := parsePage(t, admin.get("/settings/system").Body.String())
	history := spaceRow(p, "score_history")
	if history == nil {
		t.Fatal("the Storage card has no score_history row")
	}
	if rows := attrOf(within(history, "space-rows")[0], "data-rows"); rows != "6" {
		t.Errorf("score_history shows %s rows, want 6", rows)
	}
	if b := attrOf(within(history, "space-bytes")[0], "data-bytes"); b == "" || b == "0" {
		t.Errorf("score_history takes %q bytes", b)
	}
	if kept := nodeText(within(history, "space-kept")[0]); kept != "365 days" {
		t.Errorf("score_history is kept %q, want the default 365 days", kept)
	}
	if a := attrOf(within(history, "space-statistics")[0], "data-analyzed"); a != "true" {
		t.Errorf("score_history statistics: %s, want current after Optimize", a)
	}
	if kept := nodeText(within(spaceRow(p, "import_rows"), "space-kept")[0]); kept != "90 days" {
		t.Errorf("import_rows is kept %q, want the default 90 days", kept)
	}
	if p.inputValue("keep_import_rows_days") != "90" || p.inputValue("keep_score_history_days") != "365" {
		t.Errorf("the form shows %q and %q", p.inputValue("keep_import_rows_days"), p.inputValue("keep_score_history_days"))
	}

	save := func(c *client, imports, scores string, opts ...reqOption) int {
		return c.post("/settings/system/retention", url.Values{"keep_import_rows_days": {imports}, "keep_score_history_days": {scores}}, opts...).Code
	}
	if code := save(admin, "30", "0"); code != http.StatusSeeOther {
		t.Fatalf("save: %d", code)
	}
	kept := func() (int, int) {
		i, _ := rig.svc.ImportRowsRetention(ctx)
		s, _ := h.srv.Scores.HistoryRetention(ctx)
		return i, s
	}
	if i, s := kept(); i != 30 || s != 0 {
		t.Fatalf("retention after saving: import rows %d, score history %d; want 30 and 0", i, s)
	}
	if h.countAudit("retention.save", "") != 1 {
		t.Error("the change is not in the audit log")
	}
	p = parsePage(t, admin.get("/settings/system").Body.String())
	if kept := nodeText(within(spaceRow(p, "score_history"), "space-kept")[0]); kept != "forever" {
		t.Errorf("score_history is kept %q after saving 0", kept)
	}
	for _, bad := range [][2]string{{"-1", "10"}, {"abc", "10"}, {"10", "3651"}} {
		save(admin, bad[0], bad[1])
		if i, s := kept(); i != 30 || s != 0 {
			t.Fatalf("a refused change %q was saved: %d, %d", bad, i, s)
		}
	}
	if code := save(admin, "1", "1", noCSRF()); code != http.StatusForbidden {
		t.Errorf("without a CSRF token: %d", code)
	}
	h.addUser("mia", db.RoleMarketer)
	if code := save(h.login("mia"), "1", "1"); code != http.StatusForbidden {
		t.Errorf("a marketer: %d", code)
	}
	if i, s := kept(); i != 30 || s != 0 {
		t.Fatalf("a refused request changed the retention: %d, %d", i, s)
	}
}
