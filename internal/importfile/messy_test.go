package importfile

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// strayQuoteFile is a 1,000-row contact list (plus its header) with broken
// quoting in several places; broken lists the rows that must come back as
// ProblemQuote.
func strayQuoteFile() (data string, broken []int) {
	var b strings.Builder
	b.WriteString("姓名,手机号,备注\n")
	for i := 1; i <= 1000; i++ {
		row := i + 1
		mobile := fmt.Sprintf("138%08d", i)
		switch i {
		case 5: // row 6: a quoted word with text after it
			fmt.Fprintf(&b, "\"VIP\"客户,%s,老客户\n", mobile)
			broken = append(broken, row)
		case 99: // row 100: a formula written without quoting
			fmt.Fprintf(&b, "张%d,%s,=HYPERLINK(\"http://x\",\"y\")\n", i, mobile)
			broken = append(broken, row)
		case 300: // row 301: a quote opened and never closed on this line, closed on a later one
			fmt.Fprintf(&b, "\"李%d,%s,备注\n", i, mobile)
			broken = append(broken, row)
		case 302: // row 303: the line that "closes" it: its own quoting is fine
			fmt.Fprintf(&b, "王%d,%s,\"说明, 有逗号\"\n", i, mobile)
		case 500: // row 501: a quote in the middle of a cell is a character
			fmt.Fprintf(&b, "赵%d,%s,5\"屏\n", i, mobile)
		case 700: // row 701: a legitimate cell over two lines
			fmt.Fprintf(&b, "钱%d,%s,\"第一行\n第二行\"\n", i, mobile)
		case 1000: // row 1001, the last: a quote never closed at all
			fmt.Fprintf(&b, "孙%d,\"%s,备注\n", i, mobile)
			broken = append(broken, row)
		default:
			fmt.Fprintf(&b, "客户%d,%s,\n", i, mobile)
		}
	}
	return b.String(), broken
}

// A stray quote costs the row it is on, never the rows after it: the file
// accounts for all its rows, the broken ones by number.
func TestStrayQuotesNeverLoseARow(t *testing.T) {
	t.Parallel()
	data, broken := strayQuoteFile()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"utf8.csv", []byte(data)},
		{"gbk-crlf.csv", encode(t, simplifiedchinese.GBK, strings.ReplaceAll(data, "\n", "\r\n"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.name, tc.data)
			d, recs := readAll(t, p, tc.name)
			if d.Delimiter != ',' {
				t.Fatalf("delimiter %q", d.Delimiter)
			}
			if len(recs) != 1001 {
				t.Fatalf("%d records, want the header and 1,000 rows", len(recs))
			}
			var got []int
			for i, r := range recs {
				if r.Row != i+1 {
					t.Fatalf("record %d is row %d", i, r.Row)
				}
				if r.Problem != "" {
					got = append(got, r.Row)
				}
			}
			if !slices.Equal(got, broken) {
				t.Fatalf("broken rows %v, want %v", got, broken)
			}
			// Every other row has its mobile where it belongs.
			for _, r := range recs[1:] {
				if r.Problem == "" && (len(r.Fields) < 2 || !strings.HasPrefix(r.Fields[1], "138")) {
					t.Fatalf("row %d read as %q", r.Row, r.Fields)
				}
			}
			if recs[5].Text != `"VIP"客户,13800000005,老客户` {
				t.Errorf("row 6 text %q", recs[5].Text)
			}
			if got := recs[500].Fields[2]; got != `5"屏` {
				t.Errorf("row 501 note %q", got)
			}
			if r := recs[700]; r.Fields[2] != "第一行\n第二行" || r.Lines != 2 {
				t.Errorf("row 701: %q over %d lines", r.Fields, r.Lines)
			}
			// 1,002 lines: the cell over two lines is one row.
			r, _ := Open(p, d.Options())
			for {
				if _, err := r.Next(); err != nil {
					break
				}
			}
			if r.Lines() != 1002 {
				t.Errorf("lines %d, want 1002", r.Lines())
			}
			r.Close()
		})
	}
}

func TestQuotingCases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line    string
		fields  []string
		problem string
	}{
		{`a,b,c`, []string{"a", "b", "c"}, ""},
		{`"a",b`, []string{"a", "b"}, ""},
		{`a, "b, c" ,d`, []string{"a", "b, c", "d"}, ""},
		{`"a""b",c`, []string{`a"b`, "c"}, ""},
		{`a,`, []string{"a", ""}, ""},
		{`"",x`, []string{"", "x"}, ""},
		{`ab"c,d`, []string{`ab"c`, "d"}, ""},
		{`"a"b,c`, nil, ProblemQuote},
		{`a,"b"c`, nil, ProblemQuote},
		{`a,"b`, nil, ProblemQuote},
	} {
		p := writeFile(t, "q.csv", []byte(tc.line+"\nnext,row\n"))
		recs, err := Head(p, Options{Format: FormatCSV}, 5, 1<<20)
		if err != nil || len(recs) != 2 {
			t.Fatalf("%s: %v, %d records", tc.line, err, len(recs))
		}
		if !reflect.DeepEqual(recs[0].Fields, tc.fields) || recs[0].Problem != tc.problem {
			t.Errorf("%s: %q %q, want %q %q", tc.line, recs[0].Fields, recs[0].Problem, tc.fields, tc.problem)
		}
		if !reflect.DeepEqual(recs[1].Fields, []string{"next", "row"}) || recs[1].Row != 2 {
			t.Errorf("%s: the next row reads %q", tc.line, recs[1].Fields)
		}
	}
}

func TestFindHeader(t *testing.T) {
	t.Parallel()
	rec := func(row int, cells ...string) Record { return Record{Row: row, Fields: cells} }
	for _, tc := range []struct {
		name       string
		records    []Record
		row        int
		recognised bool
	}{
		{"first line", []Record{rec(1, "姓名", "手机号"), rec(2, "张三", "13800138000")}, 1, true},
		{"title row", []Record{rec(1, "2026 春季展会客户名单"), rec(2, "姓名", "手机号"), rec(3, "张三", "13800138000")}, 2, true},
		{"banner and blank", []Record{rec(1, "导出时间：2026-03-01 10:00"), rec(2, "导出人：mia"), rec(3), rec(4, "客户", "联系方式", "备注"),
			rec(5, "张三", "13800138000", "")}, 4, false},
		{"no header", []Record{rec(1, "张三", "13800138000"), rec(2, "李四", "13900139000")}, 1, false},
		{"all empty", []Record{rec(1), rec(2, "", "")}, 0, false},
	} {
		row, recognised := FindHeader(tc.records)
		if row != tc.row || recognised != tc.recognised {
			t.Errorf("%s: row %d recognised %v, want %d %v", tc.name, row, recognised, tc.row, tc.recognised)
		}
	}
}

// Workbooks as marketers get them: a note sheet before the list, a merged
// title above the header, a sheet with a header and nothing under it.
func TestWorkbookSheetsAndTitles(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "说明"))
	must(f.SetSheetRow("说明", "A1", &[]any{"本文件由市场部导出，请勿外传。"}))
	must(f.SetSheetRow("说明", "A2", &[]any{"第二个工作表是客户名单。"}))
	_, err := f.NewSheet("客户名单")
	must(err)
	must(f.SetCellValue("客户名单", "A1", "2026 春季展会客户名单"))
	must(f.MergeCell("客户名单", "A1", "C1"))
	must(f.SetSheetRow("客户名单", "A2", &[]any{"姓名", "手机号", "邮箱"}))
	for i := 0; i < 30; i++ {
		must(f.SetSheetRow("客户名单", fmt.Sprintf("A%d", i+3), &[]any{fmt.Sprintf("客户%d", i), 13800138000 + i, ""}))
	}
	// Numbers as Excel shows them when the column was too narrow, typed in as text.
	must(f.SetSheetRow("客户名单", "A33", &[]any{"四舍五入", "1.35001E+10"}))
	must(f.SetSheetRow("客户名单", "A34", &[]any{"完整", "1.3500100001E+10"}))
	_, err = f.NewSheet("只有表头")
	must(err)
	must(f.SetSheetRow("只有表头", "A1", &[]any{"姓名", "手机号"}))
	p := filepath.Join(t.TempDir(), "book.xlsx")
	must(f.SaveAs(p))

	d, err := Detect(p, "book.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	if d.Sheet != "客户名单" {
		t.Fatalf("preselected %q, want the list; sheets %v", d.Sheet, d.Sheets)
	}
	want := []Sheet{
		{Name: "说明", Rows: 2, HeaderRow: 1},
		{Name: "客户名单", Rows: 34, HeaderRow: 2, Recognised: true},
		{Name: "只有表头", Rows: 1, HeaderRow: 1, Recognised: true},
	}
	if !reflect.DeepEqual(d.Sheets, want) {
		t.Errorf("sheets\n%v\nwant\n%v", d.Sheets, want)
	}
	_, recs := readAll(t, p, "book.xlsx")
	if len(recs) != 34 || recs[0].Row != 1 || recs[0].Fields[0] != "2026 春季展会客户名单" || recs[33].Row != 34 {
		t.Fatalf("%d records: %q", len(recs), fields(recs[:2]))
	}
	if got := recs[2].Fields[1]; got != "13800138000" {
		t.Errorf("a mobile stored as a number reads %q", got)
	}
	if _, reason := Normalize(ColMobile, recs[32].Fields[1]); reason != ReasonMobileRounded {
		t.Errorf("1.35001E+10: reason %q", reason)
	}
	if v, reason := Normalize(ColMobile, recs[33].Fields[1]); v != "13500100001" || reason != "" {
		t.Errorf("1.3500100001E+10: %q %q", v, reason)
	}
	if row, ok := FindHeader(recs); row != 2 || !ok {
		t.Errorf("header row %d %v", row, ok)
	}
}

// A sheet with cells far to the right (a "sheet bomb" padded out to column
// XFD) is read row by row: those rows are too wide, nothing is padded.
func TestTooWideRows(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetRow("Sheet1", "A1", &[]any{"手机号"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"13800138000"})
	f.SetCellValue("Sheet1", "A3", "13800138001")
	f.SetCellValue("Sheet1", "XFD3", "x")
	p := filepath.Join(t.TempDir(), "wide.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	_, recs := readAll(t, p, "wide.xlsx")
	if len(recs) != 3 || recs[1].Problem != "" || recs[2].Problem != ProblemTooWide || len(recs[2].Fields) != 1 {
		t.Fatalf("records %+v", recs)
	}
	var b strings.Builder
	b.WriteString("a\n")
	b.WriteString(strings.Repeat(",", MaxColumns) + "x\n")
	b.WriteString("b\n")
	p = writeFile(t, "wide.csv", []byte(b.String()))
	_, recs = readAll(t, p, "wide.csv")
	if len(recs) != 3 || recs[1].Problem != ProblemTooWide || recs[2].Fields[0] != "b" {
		t.Fatalf("csv records %d, %q", len(recs), recs[1].Problem)
	}
}
