package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jobs"
	"github.com/jingdesk/jingdesk/internal/leadexport"
	"github.com/jingdesk/jingdesk/internal/leads"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
	leadsview "github.com/jingdesk/jingdesk/templates/leads"
)

// withLeadExports gives the server a lead export service on runner
// (nil: one never started) that makes a job of more than threshold rows
// (0: the default).
func withLeadExports(t testing.TB, runner *jobs.Runner, threshold int) harnessOption {
	return func(d *Deps) {
		if runner == nil {
			runner = jobs.New(d.Store, jobs.Config{Logger: d.Logger})
		}
		d.LeadExports = built[*leadexport.Service](t)(leadexport.New(leadexport.Config{Store: d.Store, Runner: runner, Catalog: d.Catalog,
			Names: d.Reference.Resolver, Dir: t.TempDir(), Threshold: threshold, Now: d.Now, Logger: d.Logger}))
	}
}

// exportRows posts the list's export of q and returns its rows, header
// first, read back as a spreadsheet program would.
func exportRows(t *testing.T, c *client, q url.Values, format string) [][]string {
	t.Helper()
	rec := c.post(leadsview.ExportURL(leadsview.ListFilter{Filter: leads.ReadFilter(q.Get), Status: q.Get("status")}), url.Values{"format": {format}})
	wantStatus(t, rec, http.StatusOK)
	if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, "."+format) {
		t.Fatalf("Content-Disposition %q", cd)
	}
	return readSheet(t, rec.Body.Bytes(), format)
}

func readSheet(t *testing.T, body []byte, format string) [][]string {
	t.Helper()
	if format == "csv" {
		if !bytes.HasPrefix(body, []byte("\uFEFF")) {
			t.Fatal("the CSV has no byte-order mark")
		}
		rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	book, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	rows, err := book.GetRows(book.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows[1:] {
		for j := range r {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+2)
			if f, _ := book.GetCellFormula(book.GetSheetName(0), cell); f != "" {
				t.Fatalf("cell %s is a formula: %q", cell, f)
			}
		}
	}
	return rows
}

func column(rows [][]string, name string) []string {
	at := -1
	for i, c := range leadexport.Columns {
		if c == name {
			at = i
		}
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[at])
	}
	return out
}

func TestLeadListExport(t *testing.T) {
	t.Parallel()
	h, rig := newBoardHarness(t, func(rig *boardRig) harnessOption {
		return func(d *Deps) { withLeadExports(t, rig.ref.runner, 40)(d) }
	})
	h.addUser("mia", db.RoleMarketer)
	h.addUser("max", db.RoleMarketer)
	h.addUser("vic", db.RoleViewer)
	mia, max, vic := h.login("mia"), h.login("max"), h.login("vic")
	r := rig.resolver()
	bt := r.DefaultBusinessType("lead")
	status := r.Statuses(bt)[0].ID
	hostile := []db.Lead{
		{UUID: "hostile-1", BusinessType: bt, Status: status, Name: `=HYPERLINK("http://evil.example","点我")`, Company: "+cmd|' /C calc'!A0",
			Mobile: "13800001111", Email: "@evil.example", CreatedAt: 1_700_000_000, UpdatedAt: 1_700_000_000},
		{UUID: "hostile-2", BusinessType: bt, Status: status, Name: "－1+1", Company: "＝SUM(A1)", Title: "\t=1", CreatedAt: 1_700_000_000, UpdatedAt: 1_700_000_000},
	}
	if err := h.store.UpsertLeads(context.Background(), hostile); err != nil {
		t.Fatal(err)
	}
	small := url.Values{"business_type": {bt}, "status": {status}}

	t.Run("the file's rows are exactly the filter's", func(t *testing.T) {
		list := walkList(t, mia, small)
		if len(list) > 40 || len(list) < 3 {
			t.Fatalf("the small filter selects %d leads; the test wants 3..40", len(list))
		}
		for _, format := range []string{"csv", "xlsx"} {
			rows := exportRows(t, mia, small, format)
			if got := column(rows, "uuid"); strings.Join(got, ",") != strings.Join(list, ",") {
				t.Fatalf("%s: the export has %d leads, the list %d (or in another order)", format, len(got), len(list))
			}
			if rows[0][0] != "姓名" {
				t.Fatalf("%s: header %v, want the reader's language", format, rows[0])
			}
		}
		if n := h.countAudit("leads.export", db.OutcomeOK); n != 2 {
			t.Fatalf("%d leads.export audit entries, want 2", n)
		}
	})

	t.Run("dangerous cells are text", func(t *testing.T) {
		rows := exportRows(t, mia, small, "csv")
		byUUID := map[string][]string{}
		for _, r := range rows[1:] {
			byUUID[r[len(r)-1]] = r
		}
		one, two := byUUID["hostile-1"], byUUID["hostile-2"]
		if one == nil || two == nil {
			t.Fatal("the hostile leads are not in the export")
		}
		for _, cell := range []string{one[0], one[1], one[9], two[0], two[1], two[2]} {
			if !strings.HasPrefix(cell, "'") {
				t.Errorf("cell %q is not guarded", cell)
			}
		}
		readSheet(t, exportBody(t, mia, small, "xlsx"), "xlsx") // fails on any formula cell
	})

	t.Run("viewers get contact data masked as the list masks it", func(t *testing.T) {
		rows := exportRows(t, vic, small, "csv")
		full := exportRows(t, mia, small, "csv")
		masked, plain := column(rows, "mobile"), column(full, "mobile")
		list := parsePage(t, getList(t, vic, small).body)
		shown := list.all("lead-mobile")
		for i := range plain {
			if masked[i] != leads.Mask(plain[i]) {
				t.Fatalf("viewer's mobile %q, want %q", masked[i], leads.Mask(plain[i]))
			}
			if i < len(shown) && nodeText(shown[i]) != masked[i] {
				t.Fatalf("the export shows %q where the list shows %q", masked[i], nodeText(shown[i]))
			}
		}
		if strings.Join(masked, "") == strings.Join(plain, "") {
			t.Fatal("nothing was masked")
		}
	})

	t.Run("a large export is a job with a download", func(t *testing.T) {
		all := allLeads(t, h)
		if len(all) <= 40 {
			t.Fatalf("only %d leads; the job test needs more than the threshold", len(all))
		}
		rec := vic.post(leadsview.ExportPath, url.Values{"format": {"xlsx"}})
		wantStatus(t, rec, http.StatusSeeOther)
		loc := rec.Header().Get("Location")
		if !strings.HasPrefix(loc, "/jobs/") {
			t.Fatalf("a large export went to %q, want its job", loc)
		}
		id := atoi64(t, strings.TrimPrefix(loc, "/jobs/"))
		j := fixture.WaitJobState(t, h.store, id, db.JobDone)
		if j.Done != int64(len(all)) {
			t.Fatalf("the job wrote %d rows, want %d", j.Done, len(all))
		}
		page := parsePage(t, vic.get(loc).Body.String())
		link := page.attr("job-download", "href")
		if link == "" {
			t.Fatal("the finished job offers no download")
		}
		if parsePage(t, max.get(loc).Body.String()).has("job-download") {
			t.Fatal("another user is offered the file")
		}
		wantStatus(t, max.get(link), http.StatusForbidden)
		got := vic.get(link)
		wantStatus(t, got, http.StatusOK)
		rows := readSheet(t, got.Body.Bytes(), "xlsx")
		if len(rows)-1 != len(all) {
			t.Fatalf("the file has %d leads, want %d", len(rows)-1, len(all))
		}
		for _, m := range column(rows, "mobile") {
			if m != "" && !strings.Contains(m, "*") {
				t.Fatalf("the viewer's file shows mobile %q unmasked", m)
			}
		}
	})
}

func exportBody(t *testing.T, c *client, q url.Values, format string) []byte {
	t.Helper()
	rec := c.post(leadsview.ExportURL(leadsview.ListFilter{Filter: leads.ReadFilter(q.Get), Status: q.Get("status")}), url.Values{"format": {format}})
	wantStatus(t, rec, http.StatusOK)
	return rec.Body.Bytes()
}
