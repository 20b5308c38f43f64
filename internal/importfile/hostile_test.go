package importfile

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/memstat"
)

// Hostile workbooks, built here rather than stored: small files whose
// parts inflate to hundreds of megabytes or more. Each is read in a child
// process (this test binary run again), so its peak resident memory is the
// reader's alone: the child reports its VmHWM from /proc/self/status at the
// end (the high-water mark of its resident set since exec; getrusage's
// ru_maxrss would also count the parent's pages it shared before exec).

const (
	peakRSSLimit = 200 << 20 // what the issue allows a hostile workbook
)

// repeatedDeflate is deflate blocks (no final one) of chunk repeated n
// times, built without compressing it n times: chunk is compressed once by
// a fresh writer (so it refers to nothing before it) and flushed to a byte
// boundary, and that run of blocks is repeated.
func repeatedDeflate(chunk []byte, n int) (stream []byte, crc uint32, size uint64) {
	var one bytes.Buffer
	w, _ := flate.NewWriter(&one, flate.BestCompression)
	w.Write(chunk)
	w.Flush()
	var out bytes.Buffer
	for range n {
		out.Write(one.Bytes())
		crc = crc32.Update(crc, crc32.IEEETable, chunk)
	}
	return out.Bytes(), crc, uint64(len(chunk)) * uint64(n)
}

// bombPart is a part whose content is head, then chunk n times, then tail.
type bombPart struct {
	name       string
	head, tail string
	chunk      string
	n          int
	plain      string // a small part written as is (chunk unused)
	declaredAs uint64 // a lying directory entry: this uncompressed size instead
}

// writeWorkbook writes a workbook of parts; the list sheet is always a
// normal two-row list unless a part replaces it.
func writeWorkbook(t testing.TB, path string, parts []bombPart) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	base := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
			`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml": `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
			`<row r="1"><c r="A1" t="inlineStr"><is><t>手机号</t></is></c></row><row r="2"><c r="A2"><v>13800138000</v></c></row></sheetData></worksheet>`,
	}
	replaced := map[string]bool{}
	for _, p := range parts {
		replaced[p.name] = true
	}
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml"} {
		if replaced[name] {
			continue
		}
		w, _ := zw.Create(name)
		io.WriteString(w, base[name])
	}
	for _, p := range parts {
		if p.chunk == "" {
			w, _ := zw.Create(p.name)
			io.WriteString(w, p.plain)
			continue
		}
		// head, the repeated blocks, then tail, which ends the stream.
		var raw bytes.Buffer
		fw, _ := flate.NewWriter(&raw, flate.BestCompression)
		fw.Write([]byte(p.head))
		fw.Flush()
		body, _, size := repeatedDeflate([]byte(p.chunk), p.n)
		raw.Write(body)
		tw, _ := flate.NewWriter(&raw, flate.BestCompression)
		tw.Write([]byte(p.tail))
		tw.Close()
		crc := crc32Combine(p.head, p.chunk, p.n, p.tail)
		fh := &zip.FileHeader{Name: p.name, Method: zip.Deflate, CRC32: crc, CompressedSize64: uint64(raw.Len()),
			UncompressedSize64: uint64(len(p.head)) + size + uint64(len(p.tail))}
		if p.declaredAs > 0 {
			fh.UncompressedSize64 = p.declaredAs
		}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// crc32Combine is the CRC of head + chunk×n + tail.
func crc32Combine(head, chunk string, n int, tail string) uint32 {
	crc := crc32.Update(0, crc32.IEEETable, []byte(head))
	c := []byte(chunk)
	for range n {
		crc = crc32.Update(crc, crc32.IEEETable, c)
	}
	return crc32.Update(crc, crc32.IEEETable, []byte(tail))
}

// hostileCase is one hostile workbook and what reading it must give.
type hostileCase struct {
	name  string
	parts []bombPart
	// Refused with this code (Detect or reading), or read with every row
	// accounted for: rows read and rows too wide.
	code     string
	rows     int
	tooWide  int
	inflates string // what it inflates to, for the log
}

const mb = 1 << 20

var sheetHead = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`

func hostileCases(benchmark bool) []hostileCase {
	spaces := strings.Repeat(" ", mb)
	// One row of the sheet bomb: a phone in A and a value at XFD, the
	// last column, which a reader that pads rows fills with 16,383 cells.
	bombRow := `<row><c t="inlineStr"><is><t>13800138000</t></is></c><c r="XFD1"><v>1</v></c></row>`
	bombChunk := strings.Repeat(bombRow, 4096)
	cases := []hostileCase{
		{name: "styles-512MB", inflates: "512 MB styles part",
			parts: []bombPart{{name: "xl/styles.xml", head: `<styleSheet>`, chunk: spaces, n: 512, tail: `</styleSheet>`}},
			rows:  2},
		{name: "sheet-whitespace-512MB", inflates: "512 MB worksheet of whitespace",
			parts: []bombPart{{name: "xl/worksheets/sheet1.xml", head: sheetHead, chunk: spaces, n: 512, tail: `</sheetData></worksheet>`}},
			code:  CodeXLSXLimit},
		{name: "shared-string-512MB", inflates: "one 512 MB shared string",
			parts: []bombPart{{name: "xl/sharedStrings.xml", head: `<sst><si><t>`, chunk: strings.Repeat("A", mb), n: 512, tail: `</t></si></sst>`}},
			code:  CodeXLSXLimit},
		{name: "shared-string-60MB", inflates: "one 60 MB shared string (under the part limit)",
			parts: []bombPart{{name: "xl/sharedStrings.xml", head: `<sst><si><t>`, chunk: strings.Repeat("A", mb), n: 60, tail: `</t></si></sst>`}},
			code:  CodeXLSXLimit},
		{name: "sheet-bomb-2GB", inflates: "2 GB worksheet of rows padded to column XFD",
			parts: []bombPart{{name: "xl/worksheets/sheet1.xml", head: sheetHead, chunk: bombChunk, n: 2 << 30 / len(bombChunk), tail: `</sheetData></worksheet>`}},
			code:  CodeXLSXLimit},
		{name: "sheet-bomb-100k-rows", inflates: "100,000 rows padded to column XFD (within the limits)",
			parts: []bombPart{{name: "xl/worksheets/sheet1.xml", head: sheetHead, chunk: bombChunk, n: 25, tail: `</sheetData></worksheet>`}},
			rows:  25 * 4096, tooWide: 25 * 4096},
		{name: "lying-directory", inflates: "a worksheet that inflates to 64 MB while its entry says 1 KB",
			parts: []bombPart{{name: "xl/worksheets/sheet1.xml", head: sheetHead, chunk: bombChunk, n: 200, tail: `</sheetData></worksheet>`, declaredAs: 1024}},
			code:  CodeXLSX},
	}
	if benchmark {
		cases = append(cases, hostileCase{name: "sheet-bomb-1M-rows", inflates: "1,048,576 rows padded to column XFD (the most rows a sheet has)",
			parts: []bombPart{{name: "xl/worksheets/sheet1.xml", head: sheetHead, chunk: bombChunk, n: 256, tail: `</sheetData></worksheet>`}},
			rows:  256 * 4096, tooWide: 256 * 4096})
	}
	return cases
}

var (
	hostileOnce sync.Once
	hostileDir  string
)

// hostileFile writes a case's workbook once per test process.
func hostileFile(t testing.TB, c hostileCase) string {
	t.Helper()
	hostileOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jingdesk-hostile-")
		if err != nil {
			t.Fatal(err)
		}
		hostileDir = dir
	})
	p := filepath.Join(hostileDir, c.name+".xlsx")
	if _, err := os.Stat(p); err != nil {
		writeWorkbook(t, p, c.parts)
	}
	return p
}

// hostileOutcome is what the child process reports.
type hostileOutcome struct {
	Code    string `json:"code"`
	Rows    int    `json:"rows"`
	TooWide int    `json:"too_wide"`
	PeakRSS int64  `json:"peak_rss"` // bytes: the child's VmHWM
	Seconds float64
}

// readHostile reads the file in a child process with its own empty
// temporary directory, and returns what it found and its peak RSS.
func readHostile(t testing.TB, path string) hostileOutcome {
	t.Helper()
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileChild$", "-test.v")
	cmd.Env = append(os.Environ(), "JINGDESK_HOSTILE_FILE="+path, "TMPDIR="+tmp)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	var o hostileOutcome
	for _, line := range strings.Split(out.String(), "\n") {
		if after, ok := strings.CutPrefix(line, "OUTCOME "); ok {
			if err := json.Unmarshal([]byte(after), &o); err != nil {
				t.Fatal(err)
			}
		}
	}
	o.Seconds = time.Since(start).Seconds()
	left, _ := os.ReadDir(tmp)
	if len(left) != 0 {
		t.Errorf("%s: the reader left %d files in the temporary directory", filepath.Base(path), len(left))
	}
	return o
}

// TestHostileChild is the child's side: detect, open the preferred sheet,
// read every row.
func TestHostileChild(t *testing.T) {
	t.Parallel()
	path := os.Getenv("JINGDESK_HOSTILE_FILE")
	if path == "" {
		t.Skip("run by the hostile workbook tests in a child process")
	}
	var o hostileOutcome
	err := func() error {
		d, err := Detect(path, "hostile.xlsx")
		if err != nil {
			return err
		}
		r, err := Open(path, d.Options())
		if err != nil {
			return err
		}
		defer r.Close()
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			o.Rows++
			if rec.Problem == ProblemTooWide {
				o.TooWide++
			}
		}
	}()
	if err != nil {
		o.Code = errCode(err)
		if o.Code == "" {
			o.Code = "other: " + err.Error()
		}
	}
	o.PeakRSS = memstat.PeakRSS()
	b, _ := json.Marshal(o)
	fmt.Printf("OUTCOME %s\n", b)
}

func TestHostileWorkbooks(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and reads workbooks inflating to gigabytes")
	}
	for _, c := range hostileCases(false) {
		t.Run(c.name, func(t *testing.T) {
			p := hostileFile(t, c)
			st, _ := os.Stat(p)
			o := readHostile(t, p)
			t.Logf("%s (%d KB file, %s): code %q, %d rows, peak RSS %.0f MB, %.1f s",
				c.name, st.Size()>>10, c.inflates, o.Code, o.Rows, float64(o.PeakRSS)/mb, o.Seconds)
			if o.Code != c.code || o.Rows != c.rows || o.TooWide != c.tooWide {
				t.Errorf("got code %q, %d rows, %d too wide; want %q, %d, %d", o.Code, o.Rows, o.TooWide, c.code, c.rows, c.tooWide)
			}
			if !raceEnabled && o.PeakRSS > peakRSSLimit {
				t.Errorf("peak RSS %.0f MB, over %d MB", float64(o.PeakRSS)/mb, peakRSSLimit/mb)
			}
		})
	}
}

// BenchmarkHostileWorkbooks records each hostile workbook's peak RSS and
// time (a child process per workbook; run with -benchtime 1x).
func BenchmarkHostileWorkbooks(b *testing.B) {
	for _, c := range hostileCases(true) {
		b.Run(c.name, func(b *testing.B) {
			p := hostileFile(b, c)
			var o hostileOutcome
			for b.Loop() {
				o = readHostile(b, p)
			}
			if o.Code != c.code || o.Rows != c.rows {
				b.Fatalf("got code %q, %d rows; want %q, %d", o.Code, o.Rows, c.code, c.rows)
			}
			b.ReportMetric(float64(o.PeakRSS)/mb, "peak-RSS-MB")
			b.ReportMetric(o.Seconds, "s/read")
		})
	}
}

// TestMain removes the hostile workbooks the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if hostileDir != "" {
		os.RemoveAll(hostileDir)
	}
	os.Exit(code)
}
