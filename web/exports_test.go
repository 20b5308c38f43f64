package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/sends"
	scoresview "github.com/jingdesk/jingdesk/templates/scores"
)

// hostileCells are names and texts a spreadsheet would run if an export
// wrote them as they are (audit finding 4).
var hostileCells = []string{`=cmd|' /C calc'!A0`, `=HYPERLINK("http://evil.example/","点我")`, "+1+1", "-1+1", "@SUM(1,1)", "＝1+1"}

// readCSV reads an export: it must start with the BOM.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatal("export without the UTF-8 BOM")
	}
	r := csv.NewReader(bytes.NewReader(body[3:]))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// guardedIn checks every hostile text is in the records only behind an apostrophe.
func guardedIn(t *testing.T, recs [][]string, contains func(cell, hostile string) bool) {
	t.Helper()
	for _, hostile := range hostileCells {
		found := false
		for _, rec := range recs {
			for _, cell := range rec {
				if contains(cell, hostile) {
					found = true
					if !strings.HasPrefix(cell, "'") {
						t.Errorf("%q exported as %q, a formula", hostile, cell)
					}
				}
			}
		}
		if !found {
			t.Errorf("%q is not in the export", hostile)
		}
	}
}

func TestScoresExportsKeepFormulasAsText(t *testing.T) {
	t.Parallel()
	h := newLeadScoresHarness(t)
	ctx := context.Background()
	ls, _, err := h.store.ListLeads(ctx, db.LeadFilter{Limit: len(hostileCells)})
	if err != nil || len(ls) < len(hostileCells) {
		t.Fatalf("leads: %v %d", err, len(ls))
	}
	var ids []string
	var got []db.FetchedScore
	for i := range hostileCells {
		ls[i].Name = hostileCells[i]
		ids = append(ids, ls[i].UUID)
		got = append(got, db.FetchedScore{ID: ls[i].UUID, Model: "m", Score: 50, Band: "B"})
	}
	if err := h.store.UpsertLeads(ctx, ls[:len(hostileCells)]); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.SaveScores(ctx, db.SubjectLead, db.ScoreIdentity, ids, got, h.clock.Now().Unix()); err != nil {
		t.Fatal(err)
	}
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	q := scoresview.Query{Pop: scoresview.PopAll, Kind: db.ScoreIdentity}
	url := func(path string) string {
		return strings.Replace(scoresview.SelectionURL(q, scoresview.Selection{}), scoresview.SelectionPath, path, 1)
	}
	rec := c.get(url(scoresview.CSVPath))
	wantStatus(t, rec, http.StatusOK)
	guardedIn(t, readCSV(t, rec.Body.Bytes()), func(cell, hostile string) bool { return strings.HasSuffix(cell, hostile) })

	rec = c.get(url(scoresview.XLSXPath))
	wantStatus(t, rec, http.StatusOK)
	f, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	rows, _ := f.GetRows(sheet)
	for _, hostile := range hostileCells {
		found := false
		for r, row := range rows {
			if len(row) > 1 && row[1] == hostile {
				found = true
				cell, _ := excelize.CoordinatesToCellName(2, r+1)
				if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
					t.Errorf("%q is the formula %q in the workbook", hostile, formula)
				}
			}
		}
		if !found {
			t.Errorf("%q is not in the workbook as it was", hostile)
		}
	}
}

func TestSendRecordsExportKeepsFormulasAsText(t *testing.T) {
	t.Parallel()
	h, rig := newSendsHarness(t)
	c := sendsSetup(t, h, rig, sends.DefaultSettings)
	id, _ := mobilesDraft(t, c, rig, 2)
	var recs []db.SendRecord
	for _, hostile := range hostileCells {
		recs = append(recs, db.SendRecord{Recipient: hostile, Status: "failed", Error: hostile})
	}
	if err := h.store.SaveSendRecords(context.Background(), id, recs); err != nil {
		t.Fatal(err)
	}
	rec := c.get(fmt.Sprintf("/sends/%d/records.csv", id))
	wantStatus(t, rec, http.StatusOK)
	guardedIn(t, readCSV(t, rec.Body.Bytes()), func(cell, hostile string) bool { return strings.HasSuffix(cell, hostile) })
}

func TestImportReportKeepsFormulasAsText(t *testing.T) {
	t.Parallel()
	h, _ := newCrowdsHarness(t)
	h.addUser("mia", db.RoleMarketer)
	c := h.login("mia")
	file := "手机号,姓名\n"
	for _, hostile := range hostileCells {
		file += "abc," + csvQuote(hostile) + "\n" // an invalid mobile: every row is rejected
	}
	id := uploadOK(t, c, "名单.csv", []byte(file))
	validate(t, c, id, map[string][]string{"col_0": {"mobile"}, "col_1": {"name"}, "identity": {"mobile"}})
	rec := c.get(fmt.Sprintf("/imports/%d/rows.csv?category=rejected", id))
	wantStatus(t, rec, http.StatusOK)
	guardedIn(t, readCSV(t, rec.Body.Bytes()), func(cell, hostile string) bool { return strings.HasSuffix(cell, hostile) })
}

func csvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
