package importfile

import (
	"archive/zip"
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
