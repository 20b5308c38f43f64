package importfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"
)

const chineseCSV = "姓名,手机号,邮箱\n张三,13800138000,zs@example.com\n李四,13900139000,ls@example.com\n王小明,13700137000,wxm@example.com\n"

var chineseRows = [][]string{
	{"姓名", "手机号", "邮箱"},
	{"张三", "13800138000", "zs@example.com"},
	{"李四", "13900139000", "ls@example.com"},
	{"王小明", "13700137000", "wxm@example.com"},
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func encode(t testing.TB, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll detects and reads the whole file.
func readAll(t testing.TB, path, name string) (Detected, []Record) {
	t.Helper()
	d, err := Detect(path, name)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	r, err := Open(path, d.Options())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return d, recs
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, rec)
	}
}

func fields(recs []Record) [][]string {
	var out [][]string
	for _, r := range recs {
		out = append(out, r.Fields)
	}
	return out
}

func rows(recs []Record) []int {
	var out []int
	for _, r := range recs {
		out = append(out, r.Row)
	}
	return out
}

func lines(recs []Record) []int {
	var out []int
	for _, r := range recs {
		out = append(out, r.Line)
	}
	return out
}

func TestEncodings(t *testing.T) {
	t.Parallel()
	le := xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM)
	be := xunicode.UTF16(xunicode.BigEndian, xunicode.UseBOM)
	tests := []struct {
		name string
		data []byte
		enc  string
	}{
		{"utf8", []byte(chineseCSV), EncUTF8},
		{"utf8bom", append([]byte("\xEF\xBB\xBF"), chineseCSV...), EncUTF8BOM},
		{"gbk", encode(t, simplifiedchinese.GBK, chineseCSV), EncGB18030},
		{"utf16le", encode(t, le, chineseCSV), EncUTF16LE},
		{"utf16be", encode(t, be, chineseCSV), EncUTF16BE},
		{"crlf", []byte(strings.ReplaceAll(chineseCSV, "\n", "\r\n")), EncUTF8},
		{"gbk-crlf", encode(t, simplifiedchinese.GBK, strings.ReplaceAll(chineseCSV, "\n", "\r\n")), EncGB18030},
		{"lone-cr", []byte(strings.ReplaceAll(chineseCSV, "\n", "\r")), EncUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, "list.csv", tt.data)
			d, recs := readAll(t, p, "list.csv")
			if d.Format != FormatCSV || d.Encoding != tt.enc || d.Delimiter != ',' {
				t.Errorf("Detect = %+v, want csv %s ','", d, tt.enc)
			}
			if got := fields(recs); !reflect.DeepEqual(got, chineseRows) {
				t.Errorf("fields = %q", got)
			}
			if got := rows(recs); !reflect.DeepEqual(got, []int{1, 2, 3, 4}) {
				t.Errorf("rows = %v", got)
			}
		})
	}
}

func TestEncodingOverride(t *testing.T) {
	t.Parallel()
	// A GBK file read as UTF-8 by choice still yields valid strings.
	p := writeFile(t, "list.csv", encode(t, simplifiedchinese.GBK, chineseCSV))
	recs, err := Head(p, Options{Format: FormatCSV, Encoding: EncUTF8, Delimiter: ','}, 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || len(recs[0].Fields) != 3 || !strings.Contains(recs[0].Fields[0], "\uFFFD") {
		t.Errorf("records %q", fields(recs))
	}
	// A BOM file read as plain UTF-8 has no BOM in the first field.
	p = writeFile(t, "list.csv", append([]byte("\xEF\xBB\xBF"), chineseCSV...))
	recs, err = Head(p, Options{Format: FormatCSV, Encoding: EncUTF8}, 1, 1<<20)
	if err != nil || recs[0].Fields[0] != "姓名" {
		t.Errorf("header %q, %v", fields(recs), err)
	}
	if _, err := Open(p, Options{Format: FormatCSV, Encoding: "latin9"}); errCode(err) != CodeUnsupported {
		t.Errorf("unknown encoding: %v", err)
	}
}

func TestQuotedFieldsAndLines(t *testing.T) {
	t.Parallel()
	data := "name,mobile,note\r\n" +
		"\"Zhang, San\",13800138000,\"line one\r\nline two\r\nline three\"\r\n" +
		"\r\n" +
		"  李四  ,\"13900139000\",\"say \"\"hi\"\"\"\r\n" +
		"王小明,13700137000,\r\n"
	p := writeFile(t, "q.csv", []byte(data))
	_, recs := readAll(t, p, "q.csv")
	want := [][]string{
		{"name", "mobile", "note"},
		{"Zhang, San", "13800138000", "line one\nline two\nline three"},
		{""}, // the blank line is a row, as a spreadsheet shows it
		{"李四", "13900139000", `say "hi"`},
		{"王小明", "13700137000", ""},
	}
	if got := fields(recs); !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %q", got)
	}
	if got := rows(recs); !reflect.DeepEqual(got, []int{1, 2, 3, 4, 5}) {
		t.Errorf("rows = %v, want [1 2 3 4 5]", got)
	}
	if got := lines(recs); !reflect.DeepEqual(got, []int{1, 2, 5, 6, 7}) {
		t.Errorf("lines = %v, want [1 2 5 6 7]", got)
	}
	if recs[1].Lines != 3 {
		t.Errorf("the multi-line record spans %d lines, want 3", recs[1].Lines)
	}
}

func TestDelimiters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, data string
		want             rune
	}{
		{"semicolon", "a.csv", "姓名;手机;金额\n张三;13800138000;1,5\n李四;13900139000;2,5\n", ';'},
		{"tab", "a.txt", "姓名\t手机\t地址\n张三\t13800138000\t北京, 朝阳\n李四\t13900139000\t上海\n", '\t'},
		{"tsv-quoted", "a.tsv", "name\tnote\n\"a\tb\"\tx\nc\t\"multi\nline\"\n", '\t'},
		{"tsv-default", "a.tsv", "justonecolumn\nvalue\n", '\t'},
		{"csv-default", "a.csv", "justonecolumn\nvalue\n", ','},
		{"comma-quoted-semicolons", "a.csv", "a,b\n\"x;y;z\",1\n\"p;q;r\",2\n", ','},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, tt.file, []byte(tt.data))
			d, recs := readAll(t, p, tt.file)
			if d.Delimiter != tt.want {
				t.Fatalf("delimiter %q, want %q", d.Delimiter, tt.want)
			}
			if len(recs) < 2 {
				t.Fatalf("records %q", fields(recs))
			}
		})
	}
	p := writeFile(t, "a.tsv", []byte("name\tnote\n\"a\tb\"\tx\nc\t\"multi\nline\"\nd\te\n"))
	_, recs := readAll(t, p, "a.tsv")
	want := [][]string{{"name", "note"}, {"a\tb", "x"}, {"c", "multi\nline"}, {"d", "e"}}
	if !reflect.DeepEqual(fields(recs), want) || !reflect.DeepEqual(lines(recs), []int{1, 2, 3, 5}) ||
		!reflect.DeepEqual(rows(recs), []int{1, 2, 3, 4}) {
		t.Errorf("tsv = %q lines %v rows %v", fields(recs), lines(recs), rows(recs))
	}
}

func writeXLSX(t *testing.T, name string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "手机号", "邮箱"}))
	must(f.SetSheetRow("Sheet1", "A2", &[]any{"张三", 13800138000, "zs@example.com"}))
	// Row 3 left empty on purpose.
	must(f.SetSheetRow("Sheet1", "A4", &[]any{"王小明", 13700137000.0, " wxm@example.com "}))
	_, err := f.NewSheet("客户")
	must(err)
	must(f.SetSheetRow("客户", "A1", &[]any{"mobile"}))
	must(f.SetSheetRow("客户", "A2", &[]any{"+86 139-0013-9000"}))
	p := filepath.Join(t.TempDir(), name)
	must(f.SaveAs(p))
	return p
}

func TestXLSX(t *testing.T) {
	t.Parallel()
	p := writeXLSX(t, "book.xlsx")
	d, recs := readAll(t, p, "book.xlsx")
	if d.Format != FormatXLSX || len(d.Sheets) != 2 || d.Sheets[0].Name != "Sheet1" || d.Sheets[1].Name != "客户" || d.Sheet != "Sheet1" {
		t.Fatalf("Detect = %+v", d)
	}
	want := [][]string{
		{"姓名", "手机号", "邮箱"},
		{"张三", "13800138000", "zs@example.com"},
		{"王小明", "13700137000", "wxm@example.com"},
	}
	if got := fields(recs); !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %q", got)
	}
	// Row 3 is not in the worksheet: the next row read is row 4.
	if got := rows(recs); !reflect.DeepEqual(got, []int{1, 2, 4}) {
		t.Errorf("rows = %v", got)
	}

	opt := d.Options()
	opt.Sheet = "客户"
	head, err := Head(p, opt, 5, 1<<20)
	if err != nil || len(head) != 2 || !reflect.DeepEqual(head[0].Fields, []string{"mobile"}) || head[1].Fields[0] != "+86 139-0013-9000" {
		t.Errorf("sheet 客户: %q %v", fields(head), err)
	}
	if v, reason := Normalize(ColMobile, head[1].Fields[0]); v != "13900139000" || reason != "" {
		t.Errorf("Normalize = %q %q", v, reason)
	}

	opt.Sheet = "Nope"
	if _, err := Open(p, opt); errCode(err) != CodeSheet {
		t.Errorf("missing sheet: %v", err)
	}

	// An xlsx uploaded with a .csv name is read as a workbook.
	data, _ := os.ReadFile(p)
	renamed := writeFile(t, "book.csv", data)
	if d, err := Detect(renamed, "book.csv"); err != nil || d.Format != FormatXLSX {
		t.Errorf("renamed xlsx: %+v %v", d, err)
	}
}

func TestHead(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "h.csv", []byte("\xEF\xBB\xBF手机号,姓名\r\n"))
	recs, err := Head(p, Options{Format: FormatCSV, Encoding: EncUTF8BOM, Delimiter: ','}, 10, 1<<20)
	if err != nil || len(recs) != 1 || !reflect.DeepEqual(recs[0].Fields, []string{"手机号", "姓名"}) {
		t.Errorf("header-only: %q %v", fields(recs), err)
	}
	p = writeFile(t, "r.csv", []byte("a,b\n1,2\n,\n3,4\n5,6\n"))
	recs, err = Head(p, Options{Format: FormatCSV}, 4, 1<<20)
	if err != nil || len(recs) != 4 || !EmptyRecord(recs[2].Fields) || recs[3].Row != 4 {
		t.Errorf("head: %q %v", fields(recs), err)
	}
}

func errCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestDetectErrors(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	tests := []struct {
		name string
		data []byte
		code string
	}{
		{"empty.csv", nil, CodeEmpty},
		{"blank.csv", []byte("\xEF\xBB\xBF \r\n\t\n"), CodeEmpty},
		{"blank16.csv", []byte("\xFF\xFE \x00\n\x00"), CodeEmpty},
		{"image.csv", png, CodeBinary},
		{"nul-bom.csv", []byte("\xEF\xBB\xBFa,b\n\x00\x01,2\n"), CodeBinary},
		{"list.xls", []byte(chineseCSV), CodeUnsupported},
		{"list", []byte(chineseCSV), CodeUnsupported},
		{"corrupt.xlsx", []byte("PK\x03\x04 this is not really a zip"), CodeXLSX},
		{"text.xlsx", []byte(chineseCSV), CodeXLSX},
		{"zip.csv", []byte("PK\x03\x04\x00\x00garbage"), CodeBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, tt.name, tt.data)
			_, err := Detect(p, tt.name)
			if errCode(err) != tt.code {
				t.Errorf("Detect error %v, want code %s", err, tt.code)
			}
		})
	}
	p := writeFile(t, "empty.csv", nil)
	if _, err := Head(p, Options{Format: FormatCSV}, 5, 1<<20); errCode(err) != CodeEmpty {
		t.Errorf("Head empty: %v", err)
	}
	p = writeFile(t, "corrupt.xlsx", []byte("PK\x03\x04 nope"))
	if _, err := Open(p, Options{Format: FormatXLSX}); errCode(err) != CodeXLSX {
		t.Errorf("Open corrupt: %v", err)
	}
	if _, err := Open(p, Options{Format: "ods"}); errCode(err) != CodeUnsupported {
		t.Errorf("Open ods: %v", err)
	}
}

func TestRecordSize(t *testing.T) {
	t.Parallel()
	// An unterminated quote at line 3 costs line 3 alone, however long
	// the rest of the file: the quoted cell gives up at MaxRecordBytes.
	var b strings.Builder
	b.WriteString("a,b\n1,2\n\"open\n")
	n := 0
	for b.Len() < MaxRecordBytes+100<<10 {
		b.WriteString("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,1\n")
		n++
	}
	p := writeFile(t, "big.csv", []byte(b.String()))
	_, recs := readAll(t, p, "big.csv")
	if len(recs) != 3+n || recs[2].Problem != ProblemQuote || recs[2].Row != 3 || recs[2].Text != `"open` {
		t.Fatalf("%d records (want %d), third %+v", len(recs), 3+n, recs[min(2, len(recs)-1)])
	}
	if recs[3].Problem != "" || recs[3].Row != 4 || recs[3].Fields[1] != "1" {
		t.Fatalf("the row after the broken one: %+v", recs[3])
	}

	// A single line longer than the limit is one row with ProblemTooLong.
	big := strings.Repeat("y", MaxRecordBytes+10)
	p = writeFile(t, "long.csv", []byte("a,b\n"+big+",1\n2,3\n"))
	_, recs = readAll(t, p, "long.csv")
	if len(recs) != 3 || recs[1].Problem != ProblemTooLong || len(recs[1].Text) > maxTextBytes || recs[2].Fields[1] != "3" {
		t.Fatalf("long line: %d records, %+v", len(recs), recs[1].Problem)
	}

	// Records just under the limit are fine.
	big = strings.Repeat("y", MaxRecordBytes-10)
	p = writeFile(t, "ok.csv", []byte("a,b\n"+big+",1\n"+big+",2\n"))
	_, recs = readAll(t, p, "ok.csv")
	if len(recs) != 3 || recs[2].Fields[1] != "2" || recs[2].Problem != "" {
		t.Errorf("near-limit records: %d", len(recs))
	}
}

func TestMalformedDelimiter(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "a.csv", []byte("a,b\n"))
	if _, err := Open(p, Options{Format: FormatCSV, Delimiter: '"'}); errCode(err) != CodeUnsupported {
		t.Errorf("quote delimiter: %v", err)
	}
}

func TestIncompleteTail(t *testing.T) {
	t.Parallel()
	s := []byte("a张") // 张 is 3 bytes
	for cut := 1; cut <= len(s); cut++ {
		want := 0
		if cut == 2 || cut == 3 {
			want = cut - 1
		}
		if got := incompleteTail(s[:cut]); got != want {
			t.Errorf("incompleteTail(%q) = %d, want %d", s[:cut], got, want)
		}
	}
}

func TestUTF8ChunkBoundary(t *testing.T) {
	t.Parallel()
	// 3-byte runes straddle every chunk boundary of validUTF8File.
	data := strings.Repeat("张三,13800138000\n", 40000)
	p := writeFile(t, "long.csv", []byte(data))
	d, err := Detect(p, "long.csv")
	if err != nil || d.Encoding != EncUTF8 {
		t.Fatalf("Detect = %+v, %v", d, err)
	}
	// One invalid byte at the very end turns it into GB18030.
	p = writeFile(t, "long.csv", []byte(data+"\xB2"))
	if d, err := Detect(p, "long.csv"); err != nil || d.Encoding != EncGB18030 {
		t.Fatalf("Detect = %+v, %v", d, err)
	}
}
