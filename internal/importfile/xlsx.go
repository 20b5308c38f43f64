package importfile

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
)

// A workbook is read straight from its zip archive: the worksheet's XML is
// inflated and parsed as a stream, a token at a time, so memory holds one
// row and the shared strings, and nothing is written to disk. Before any
// part is inflated, the archive's directory is checked against the limits
// below; the archive reader also refuses a part that inflates to more than
// its directory entry says, so the check holds for hostile files too.
//
// (excelize, which wrote the workbooks' large parts to temporary files and
// held the rest in memory, is no longer on this path: its limits could not
// bound one huge cell or a row padded out to column XFD.)
const (
	MaxWorkbookParts      = 10000     // files in the archive
	MaxWorkbookBytes      = 1 << 30   // all parts, inflated
	MaxSheetBytes         = 1 << 30   // one worksheet, inflated
	MaxSharedStringsBytes = 64 << 20  // the shared strings part, inflated (held in memory)
	MaxMetaBytes          = 16 << 20  // the workbook part and relationship parts (parsed whole)
	MaxCellBytes          = 128 << 10 // one cell's text, or one XML token (Excel allows 32,767 characters)
	MaxRowXMLBytes        = 32 << 20  // one row's XML
	maxExcelRows          = 1 << 20   // 1,048,576
	maxExcelColumns       = 16384     // XFD
)

// Sheet is one worksheet of a workbook, as Detect saw it.
type Sheet struct {
	Name       string
	Hidden     bool
	Rows       int  // rows holding data (the worksheet's dimension, else counted at its start)
	More       bool // Rows was counted and the sheet goes on
	HeaderRow  int  // the header FindHeader proposes (0: none found)
	Recognised bool // that header names a column Mapping knows
	Unscanned  bool // past the first maxScannedSheets: listed, not looked at
}

// workbook is an open .xlsx archive.
type workbook struct {
	zr      *zip.ReadCloser
	files   map[string]*zip.File // by lower-case name
	sheets  []sheetPart
	strings string // path of the shared strings part ("" without one)
	sst     *sharedStrings
}

type sheetPart struct {
	name, part string
	hidden     bool
}

// openWorkbook opens the archive, checks its directory against the limits
// and reads the list of worksheets.
func openWorkbook(filePath string) (wb *workbook, err error) {
	zr, err := zip.OpenReader(filePath)
	if err != nil {
		return nil, newError(CodeXLSX, 0, "%v", err)
	}
	wb = &workbook{zr: zr, files: map[string]*zip.File{}}
	defer func() {
		if err != nil {
			zr.Close()
		}
	}()
	if err := wb.checkDirectory(); err != nil {
		return nil, err
	}
	if err := wb.readSheetList(); err != nil {
		return nil, err
	}
	return wb, nil
}

// checkDirectory applies the limits to the zip directory before anything
// is inflated.
func (wb *workbook) checkDirectory() error {
	if len(wb.zr.File) > MaxWorkbookParts {
		return newError(CodeXLSXLimit, 0, "%d parts (at most %d)", len(wb.zr.File), MaxWorkbookParts)
	}
	var total uint64
	for _, f := range wb.zr.File {
		size := f.UncompressedSize64
		total += size
		if total > MaxWorkbookBytes {
			return newError(CodeXLSXLimit, 0, "parts inflate to more than %d bytes", MaxWorkbookBytes)
		}
		name := strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/"))
		wb.files[name] = f
	}
	return nil
}

// part finds a part by name, ignoring case (producers disagree on it).
func (wb *workbook) part(name string) *zip.File {
	return wb.files[strings.ToLower(strings.TrimPrefix(name, "/"))]
}

// open inflates a part that must not exceed limit bytes.
func (wb *workbook) open(name string, limit uint64) (io.ReadCloser, int64, error) {
	f := wb.part(name)
	if f == nil {
		return nil, 0, newError(CodeXLSX, 0, "no part %s", name)
	}
	if f.UncompressedSize64 > limit {
		return nil, 0, newError(CodeXLSXLimit, 0, "part %s inflates to %d bytes (at most %d)", name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, 0, newError(CodeXLSX, 0, "part %s: %v", name, err)
	}
	return rc, int64(f.UncompressedSize64), nil
}

// relationship is an entry of a .rels part.
type relationship struct {
	Type, Target string
}

// readRels reads the relationships of a part (by Id); a part without any is fine.
func (wb *workbook) readRels(relsPath string) (map[string]relationship, error) {
	out := map[string]relationship{}
	if wb.part(relsPath) == nil {
		return out, nil
	}
	err := wb.scanXML(relsPath, MaxMetaBytes, func(el xml.StartElement) {
		if el.Name.Local != "Relationship" {
			return
		}
		var id string
		var rel relationship
		for _, a := range el.Attr {
			switch a.Name.Local {
			case "Id":
				id = a.Value
			case "Type":
				rel.Type = a.Value
			case "Target":
				rel.Target = a.Value
			}
		}
		out[id] = rel
	})
	return out, err
}

// scanXML calls fn with every start element of a small part.
func (wb *workbook) scanXML(name string, limit uint64, fn func(xml.StartElement)) error {
	rc, _, err := wb.open(name, limit)
	if err != nil {
		return err
	}
	defer rc.Close()
	dec, in := boundedDecoder(rc)
	for {
		in.allow(MaxCellBytes)
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return xmlError(name, 0, err)
		}
		if el, ok := tok.(xml.StartElement); ok {
			fn(el)
		}
	}
}

// relType reports whether a relationship type URI (transitional or strict
// OOXML) names kind.
func relType(uri, kind string) bool { return strings.HasSuffix(uri, "/"+kind) }

// resolve turns a relationship target into a part name.
func resolve(dir, target string) string {
	target = strings.ReplaceAll(target, `\`, "/")
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(target, "/")
	}
	return path.Join(dir, target)
}

// readSheetList finds the workbook part (through the package's
// relationships), its worksheets in order and the shared strings part.
func (wb *workbook) readSheetList() error {
	root, err := wb.readRels("_rels/.rels")
	if err != nil {
		return err
	}
	book := "xl/workbook.xml"
	for _, r := range root {
		if relType(r.Type, "officeDocument") {
			book = resolve("", r.Target)
		}
	}
	dir := path.Dir(book)
	rels, err := wb.readRels(path.Join(dir, "_rels", path.Base(book)+".rels"))
	if err != nil {
		return err
	}
	for _, r := range rels {
		if relType(r.Type, "sharedStrings") {
			wb.strings = resolve(dir, r.Target)
		}
	}
	if wb.strings == "" && wb.part(path.Join(dir, "sharedStrings.xml")) != nil {
		wb.strings = path.Join(dir, "sharedStrings.xml")
	}
	err = wb.scanXML(book, MaxMetaBytes, func(el xml.StartElement) {
		if el.Name.Local != "sheet" {
			return
		}
		var s sheetPart
		var rid string
		for _, a := range el.Attr {
			switch {
			case a.Name.Local == "name":
				s.name = a.Value
			case a.Name.Local == "state":
				s.hidden = a.Value != "visible"
			case a.Name.Local == "id" && a.Name.Space != "": // r:id
				rid = a.Value
			}
		}
		// A chart sheet or dialog sheet has no cells to import.
		if r, ok := rels[rid]; ok && relType(r.Type, "worksheet") {
			s.part = resolve(dir, r.Target)
			wb.sheets = append(wb.sheets, s)
		}
	})
	if err != nil {
		return err
	}
	if len(wb.sheets) == 0 {
		return newError(CodeXLSX, 0, "workbook without worksheets")
	}
	return nil
}

// sharedStrings loads the shared strings once.
func (wb *workbook) sharedStrings() (*sharedStrings, error) {
	if wb.sst != nil || wb.strings == "" {
		if wb.sst == nil {
			wb.sst = &sharedStrings{}
		}
		return wb.sst, nil
	}
	if wb.part(wb.strings) == nil {
		wb.sst = &sharedStrings{}
		return wb.sst, nil
	}
	rc, size, err := wb.open(wb.strings, MaxSharedStringsBytes)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	sst, err := readSharedStrings(rc, size)
	if err != nil {
		return nil, err
	}
	wb.sst = sst
	return sst, nil
}

// rows starts reading one worksheet ("" = the first).
func (wb *workbook) rows(sheet string) (*sheetRows, error) {
	i := 0
	if sheet != "" {
		i = slices.IndexFunc(wb.sheets, func(s sheetPart) bool { return s.name == sheet })
		if i < 0 {
			return nil, newError(CodeSheet, 0, "no sheet %q", sheet)
		}
	}
	sst, err := wb.sharedStrings()
	if err != nil {
		return nil, err
	}
	rc, size, err := wb.open(wb.sheets[i].part, MaxSheetBytes)
	if err != nil {
		return nil, err
	}
	dec, in := boundedDecoder(rc)
	return &sheetRows{rc: rc, dec: dec, in: in, size: size, sst: sst, part: wb.sheets[i].part}, nil
}

func (wb *workbook) close() error { return wb.zr.Close() }

func openXLSX(filePath, sheet string) (*Reader, error) {
	wb, err := openWorkbook(filePath)
	if err != nil {
		return nil, err
	}
	rows, err := wb.rows(sheet)
	if err != nil {
		wb.close()
		return nil, err
	}
	return &Reader{wb: wb, sheet: rows}, nil
}

// --- XML with bounded tokens ---

// boundedReader fails once more than limit bytes have been read; allow
// moves the limit forward before each token. encoding/xml reads an
// io.ByteReader byte by byte without buffering of its own, so the limit
// bounds the size of every token it builds.
type boundedReader struct {
	br       *bufio.Reader
	n, limit int64
}

var errTokenTooBig = errors.New("xml token too big")

func (b *boundedReader) allow(n int64) { b.limit = b.n + n }

func (b *boundedReader) ReadByte() (byte, error) {
	if b.n >= b.limit {
		return 0, errTokenTooBig
	}
	c, err := b.br.ReadByte()
	if err == nil {
		b.n++
	}
	return c, err
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if room := b.limit - b.n; int64(len(p)) > room {
		if room <= 0 {
			return 0, errTokenTooBig
		}
		p = p[:room]
	}
	n, err := b.br.Read(p)
	b.n += int64(n)
	return n, err
}

func boundedDecoder(r io.Reader) (*xml.Decoder, *boundedReader) {
	in := &boundedReader{br: bufio.NewReaderSize(r, 64<<10)}
	dec := xml.NewDecoder(in)
	dec.Strict = true
	return dec, in
}

// xmlError is a part that cannot be parsed.
func xmlError(part string, row int, err error) error {
	if errors.Is(err, errTokenTooBig) {
		return newError(CodeXLSXLimit, row, "part %s: an element or text longer than %d bytes", part, MaxCellBytes)
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	return newError(CodeXLSX, row, "part %s: %v", part, err)
}

// --- shared strings ---

// sharedStrings are the workbook's shared texts, held compactly: one
// buffer and where each text ends.
type sharedStrings struct {
	data []byte
	ends []uint32
}

func (s *sharedStrings) get(i int) (string, bool) {
	if i < 0 || i >= len(s.ends) {
		return "", false
	}
	start := uint32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return string(s.data[start:s.ends[i]]), true
}

// readSharedStrings parses <sst>: each <si> is the text of its <t>
// elements, directly or in rich-text runs, without phonetic runs (<rPh>).
func readSharedStrings(r io.Reader, size int64) (*sharedStrings, error) {
	s := &sharedStrings{data: make([]byte, 0, min(size, 8<<20))}
	dec, in := boundedDecoder(r)
	inT, phonetic := false, 0
	start := 0
	for {
		in.allow(MaxCellBytes)
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, xmlError("sharedStrings", 0, err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "si":
				start = len(s.data)
			case "rPh":
				phonetic++
			case "t":
				inT = phonetic == 0
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "si":
				s.ends = append(s.ends, uint32(len(s.data)))
			case "rPh":
				phonetic--
			case "t":
				inT = false
			}
		case xml.CharData:
			if inT {
				s.data = append(s.data, el...)
				if len(s.data)-start > MaxCellBytes {
					return nil, newError(CodeXLSXLimit, 0, "a shared string longer than %d bytes", MaxCellBytes)
				}
			}
		}
	}
}

// --- worksheet rows ---

// sheetRows streams the rows of one worksheet.
type sheetRows struct {
	rc   io.ReadCloser
	dec  *xml.Decoder
	in   *boundedReader
	size int64
	sst  *sharedStrings
	part string
	row  int // the last row returned
	done bool
}

func (s *sheetRows) close() error { return s.rc.Close() }

// token reads the next token with a bounded size.
func (s *sheetRows) token() (xml.Token, error) {
	s.in.allow(MaxCellBytes)
	tok, err := s.dec.RawToken()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, xmlError(s.part, s.row+1, err)
	}
	return tok, err
}

// next returns the next row that is in the worksheet.
func (s *sheetRows) next() (Record, error) {
	for !s.done {
		tok, err := s.token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Record{}, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local == "row" {
				return s.readRow(el)
			}
		case xml.EndElement:
			if el.Name.Local == "sheetData" {
				s.done = true
			}
		}
	}
	return Record{}, io.EOF
}

// readRow reads a <row> to its end.
func (s *sheetRows) readRow(start xml.StartElement) (Record, error) {
	n := s.row + 1
	if v := attr(start, "r"); v != "" {
		r, err := strconv.Atoi(v)
		if err != nil || r <= s.row || r > maxExcelRows {
			return Record{}, newError(CodeXLSX, s.row+1, "part %s: row number %q after row %d", s.part, v, s.row)
		}
		n = r
	}
	if n > maxExcelRows {
		return Record{}, newError(CodeXLSX, n, "part %s: more than %d rows", s.part, maxExcelRows)
	}
	s.row = n
	rec := Record{Row: n, Line: n, Lines: 1}
	began := s.in.n
	col := 0
	for {
		if s.in.n-began > MaxRowXMLBytes {
			return Record{}, newError(CodeXLSXLimit, n, "part %s: row %d is more than %d bytes of XML", s.part, n, MaxRowXMLBytes)
		}
		tok, err := s.token()
		if errors.Is(err, io.EOF) {
			return Record{}, newError(CodeXLSX, n, "part %s: row %d is not closed", s.part, n)
		}
		if err != nil {
			return Record{}, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local != "c" {
				continue
			}
			c, err := s.readCell(el, col, n)
			if err != nil {
				return Record{}, err
			}
			col = c.col
			s.place(&rec, c)
		case xml.EndElement:
			if el.Name.Local == "row" {
				for i, f := range rec.Fields {
					rec.Fields[i] = cleanField(f)
				}
				return rec, nil
			}
		}
	}
}

// place puts a cell's value in its column; a value past MaxColumns marks
// the row too wide.
func (s *sheetRows) place(rec *Record, c cell) {
	if c.value == "" {
		return
	}
	if c.col > MaxColumns {
		rec.Problem = ProblemTooWide
		return
	}
	for len(rec.Fields) < c.col {
		rec.Fields = append(rec.Fields, "")
	}
	rec.Fields[c.col-1] = c.value
}

type cell struct {
	col   int
	value string
}

// readCell reads a <c> to its end: its column (from r, else the one after
// prev) and its value as stored (numbers unformatted, so a mobile stored
// as a number reads 13800138000).
func (s *sheetRows) readCell(start xml.StartElement, prev, row int) (cell, error) {
	c := cell{col: prev + 1}
	if ref := attr(start, "r"); ref != "" {
		col, ok := columnOf(ref)
		if !ok {
			return c, newError(CodeXLSX, row, "part %s: cell reference %q", s.part, ref)
		}
		c.col = col
	}
	kind := attr(start, "t")
	var v, inline strings.Builder
	in, phonetic := "", 0
	for {
		tok, err := s.token()
		if errors.Is(err, io.EOF) {
			return c, newError(CodeXLSX, row, "part %s: cell not closed", s.part)
		}
		if err != nil {
			return c, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "rPh":
				phonetic++
			case "v", "t":
				in = el.Name.Local
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "c":
				value, err := s.cellValue(kind, v.String(), inline.String(), row)
				c.value = value
				return c, err
			case "rPh":
				phonetic--
			case "v", "t":
				in = ""
			}
		case xml.CharData:
			switch {
			case in == "v":
				v.Write(el)
			case in == "t" && phonetic == 0:
				inline.Write(el)
			}
			if v.Len()+inline.Len() > MaxCellBytes {
				return c, newError(CodeXLSXLimit, row, "part %s: a cell longer than %d bytes", s.part, MaxCellBytes)
			}
		}
	}
}

// cellValue is a cell's text by its type.
func (s *sheetRows) cellValue(kind, v, inline string, row int) (string, error) {
	switch kind {
	case "s":
		if v == "" {
			return "", nil
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		text, ok := s.sst.get(i)
		if err != nil || !ok {
			return "", newError(CodeXLSX, row, "part %s: shared string %q does not exist", s.part, v)
		}
		return unescapeOOXML(text), nil
	case "inlineStr":
		return unescapeOOXML(inline), nil
	}
	return v, nil
}

func attr(el xml.StartElement, local string) string {
	for _, a := range el.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// columnOf reads the column of a cell reference such as "AB12" (1-based).
func columnOf(ref string) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
		if col > maxExcelColumns {
			return 0, false
		}
	}
	return col, i > 0
}

// unescapeOOXML turns the _xHHHH_ escapes of OOXML strings back into
// characters (Excel writes a carriage return as _x000D_).
func unescapeOOXML(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "_x")
		if i < 0 || i+7 > len(s) || s[i+6] != '_' {
			b.WriteString(s)
			return b.String()
		}
		n, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
		if err != nil {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteRune(rune(n))
		s = s[i+7:]
	}
}

// --- detection ---

// Budgets of Detect's look at each worksheet: enough for the header and a
// count of the first rows, never a read of a whole large sheet.
const (
	scanRows         = 1000
	scanBytes        = 4 << 20
	maxScannedSheets = 64
	headerWithin     = 20 // the header is looked for in the first rows
)

// scanSheets looks at the start of each worksheet of an open workbook:
// its size (from <dimension>, else counted), its header.
func (wb *workbook) scanSheets() ([]Sheet, error) {
	out := make([]Sheet, len(wb.sheets))
	for i, sp := range wb.sheets {
		out[i] = Sheet{Name: sp.name, Hidden: sp.hidden, Unscanned: i >= maxScannedSheets}
		if out[i].Unscanned {
			continue
		}
		if err := wb.scanSheet(sp.name, &out[i]); err != nil {
			var fe *Error
			if errors.As(err, &fe) && fe.Code == CodeXLSXLimit {
				return nil, err // the file is over a limit: refused whole
			}
			// A sheet that cannot be read is still listed; reading it says why.
		}
	}
	return out, nil
}

// sample is SampleFile for a worksheet of an open workbook.
func (wb *workbook) sample(sheet string, n int, budget int64) (Sample, error) {
	rows, err := wb.rows(sheet)
	if err != nil {
		return Sample{}, err
	}
	defer rows.close()
	return sample(&Reader{sheet: rows}, n, budget)
}

func (wb *workbook) scanSheet(name string, sh *Sheet) error {
	rows, err := wb.rows(name)
	if err != nil {
		return err
	}
	defer rows.close()
	dimension := rows.dimensionRows()
	var head []Record
	count := 0
	for rows.in.n < scanBytes && count < scanRows {
		rec, err := rows.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if rec.Row <= headerWithin {
			head = append(head, rec)
		}
		if !EmptyRecord(rec.Fields) || rec.Problem != "" {
			count++
		}
	}
	sh.Rows, sh.More = count, !rows.done
	if dimension > 0 && sh.More {
		sh.Rows, sh.More = dimension, false
	}
	sh.HeaderRow, sh.Recognised = FindHeader(head)
	return nil
}

// dimensionRows reads the rows <dimension ref="A1:D5000"/> claims, if the
// worksheet has one before its data (0 otherwise). It only peeks at the
// tokens before <sheetData>, which next reads past anyway.
func (s *sheetRows) dimensionRows() int {
	for {
		tok, err := s.token()
		if err != nil {
			return 0
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch el.Name.Local {
		case "dimension":
			_, last, _ := strings.Cut(attr(el, "ref"), ":")
			n, _ := strconv.Atoi(strings.TrimLeft(last, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$"))
			return n
		case "sheetData":
			return 0
		}
	}
}

// String describes a sheet for a log line.
func (sh Sheet) String() string {
	return fmt.Sprintf("%s (%d rows, header row %d)", sh.Name, sh.Rows, sh.HeaderRow)
}
