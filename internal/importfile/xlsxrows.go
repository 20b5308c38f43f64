package importfile

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Reading a worksheet's rows from its XML stream: tokens bounded in size,
// the shared strings a cell refers to, and each row's cells placed in
// their columns (xlsx.go opens the workbook and finds the worksheet).

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
