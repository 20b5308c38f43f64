package importfile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Record is one row of a file as read.
//
// Row is the spreadsheet row a user sees when they open the file: for a
// CSV file the record's position counting every record (blank lines and
// rows with a problem included, a cell over several lines counting once),
// for a workbook the worksheet's row number. Rows a worksheet leaves out
// are empty rows: Next skips them, so Row may jump.
//
// Fields are trimmed of surrounding spaces and never hold a BOM. A row
// that cannot be split into cells has a Problem (Problem* constants), no
// Fields, and Text: the start of its line.
type Record struct {
	Row     int
	Line    int // csv: the physical line the record starts on; xlsx: Row
	Lines   int // csv: physical lines the record spans; xlsx: 1
	Fields  []string
	Problem string
	Text    string
}

// Problems of a row that make it unusable as it stands (stable codes, also
// reasons of rejected rows).
const (
	ProblemQuote   = "quote"    // broken quoting: a quoted cell not closed where it should be
	ProblemTooLong = "too_long" // one line longer than MaxRecordBytes
	ProblemTooWide = "too_wide" // a value beyond column MaxColumns
)

// MaxColumns is the widest row read: a row with a value past this column
// is a row with ProblemTooWide (its first MaxColumns cells are kept).
const MaxColumns = 256

// Reader streams the records of a file from its first row, decoding on
// the fly.
type Reader struct {
	file    *os.File
	counted *countingReader
	size    int64
	csv     *csvRecords

	wb    *workbook
	sheet *sheetRows

	err error // sticky: once a file went wrong, it stays wrong
}

// Open opens the file at path for reading with the given options. A zero
// Encoding means UTF-8 and a zero Delimiter means ','.
func Open(path string, opt Options) (*Reader, error) {
	switch opt.Format {
	case FormatCSV:
		return openCSV(path, opt)
	case FormatXLSX:
		return openXLSX(path, opt.Sheet)
	}
	return nil, newError(CodeUnsupported, 0, "format %q", opt.Format)
}

func openCSV(path string, opt Options) (*Reader, error) {
	delim := opt.Delimiter
	if delim == 0 {
		delim = ','
	}
	if !validDelimiter(delim) {
		return nil, newError(CodeUnsupported, 0, "delimiter %q", delim)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	counted := &countingReader{r: f}
	dec, err := decoder(counted, opt.Encoding)
	if err != nil {
		f.Close()
		return nil, err
	}
	src := bufio.NewReaderSize(crReader{dec}, 64<<10)
	return &Reader{file: f, counted: counted, size: st.Size(), csv: newCSVRecords(src, byte(delim))}, nil
}

// validDelimiter: one ASCII character that cannot be part of quoting or a line end.
func validDelimiter(d rune) bool {
	return d > 0 && d < utf8.RuneSelf && d != '"' && d != '\r' && d != '\n'
}

// Next returns the next record: io.EOF at the end, an *Error for a file
// that cannot be read on. Errors are sticky.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	var rec Record
	var err error
	switch {
	case r.sheet != nil:
		rec, err = r.sheet.next()
	case r.csv != nil:
		rec, err = r.csv.next()
	default:
		err = errors.New("importfile: reader is closed")
	}
	if err != nil {
		r.err = err
		return Record{}, err
	}
	return rec, nil
}

// Lines is how many physical lines of a CSV file have been read (all of
// them once Next returned io.EOF); 0 for a workbook.
func (r *Reader) Lines() int {
	if r.csv == nil {
		return 0
	}
	return r.csv.lines
}

// Progress is how far reading has gone, in bytes of the file (csv) or of
// the worksheet inflated (xlsx), against the total.
func (r *Reader) Progress() (done, total int64) {
	switch {
	case r.sheet != nil:
		return r.sheet.in.n, r.sheet.size
	case r.counted != nil:
		return r.counted.n, r.size
	}
	return 0, 0
}

// Close releases the file. It is safe to call more than once.
func (r *Reader) Close() error {
	var err error
	if r.sheet != nil {
		err = r.sheet.close()
		r.sheet = nil
	}
	if r.wb != nil {
		err = errors.Join(err, r.wb.close())
		r.wb = nil
	}
	if r.file != nil {
		err = errors.Join(err, r.file.Close())
		r.file = nil
	}
	r.csv = nil
	if r.err == nil {
		r.err = errors.New("importfile: reader is closed")
	}
	return err
}

// Sample is the start of a file: its first records (from row 1, blank
// rows included) and the number of columns its rows use, looked at over
// more rows than are kept (WidthRows), so a column only later rows fill
// can still be mapped.
type Sample struct {
	Records []Record
	Columns int
}

// WidthRows is how many rows SampleFile looks at for the columns.
const WidthRows = 2000

// SampleFile reads the first n records of a file and the columns of its
// first WidthRows rows, stopping early after budget bytes of progress (a
// workbook whose first rows are enormous). A file without any record is
// CodeEmpty.
func SampleFile(path string, opt Options, n int, budget int64) (Sample, error) {
	r, err := Open(path, opt)
	if err != nil {
		return Sample{}, err
	}
	defer r.Close()
	return sample(r, n, budget)
}

// Head is the first n records of SampleFile.
func Head(path string, opt Options, n int, budget int64) ([]Record, error) {
	s, err := SampleFile(path, opt, n, budget)
	return s.Records, err
}

func sample(r *Reader, n int, budget int64) (Sample, error) {
	var out Sample
	for seen := 0; seen < max(n, WidthRows); seen++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(out.Records) == 0 {
				return Sample{}, err
			}
			return out, err
		}
		out.Columns = max(out.Columns, len(rec.Fields))
		if len(out.Records) < n {
			out.Records = append(out.Records, rec)
		}
		if done, _ := r.Progress(); done > budget {
			break
		}
	}
	if len(out.Records) == 0 {
		return Sample{}, newError(CodeEmpty, 0, "no records")
	}
	return out, nil
}

// cleanField trims spaces and stray BOMs (U+FEFF), and replaces invalid
// UTF-8 (a GBK file read as UTF-8 by choice) so that callers always get
// valid strings.
func cleanField(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return trimField(s)
}

// trimField trims spaces and BOMs around valid UTF-8.
func trimField(s string) string {
	if s == "" || s[0] > ' ' && s[0] < utf8.RuneSelf && s[len(s)-1] > ' ' && s[len(s)-1] < utf8.RuneSelf {
		return s // nothing to trim: the common case, checked cheaply
	}
	return strings.TrimFunc(s, isBlankRune)
}

func isBlankRune(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }

// decoder turns the raw file into UTF-8 without a leading BOM.
func decoder(r io.Reader, enc string) (*bufio.Reader, error) {
	var src io.Reader
	switch enc {
	case EncUTF8, EncUTF8BOM, "":
		src = r
	case EncUTF16LE:
		src = transform.NewReader(r, xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM).NewDecoder())
	case EncUTF16BE:
		src = transform.NewReader(r, xunicode.UTF16(xunicode.BigEndian, xunicode.UseBOM).NewDecoder())
	case EncGB18030:
		src = transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder())
	default:
		return nil, newError(CodeUnsupported, 0, "encoding %q", enc)
	}
	br := bufio.NewReaderSize(src, 64<<10)
	// Strip a UTF-8 BOM even when the user chose plain "utf-8".
	if b, _ := br.Peek(len(bomUTF8)); bytes.Equal(b, bomUTF8) {
		br.Discard(len(bomUTF8))
	}
	return br, nil
}

// crReader turns a lone CR (classic Mac line ends) into LF; CRLF is left to
// encoding/csv.
type crReader struct{ br *bufio.Reader }

func (c crReader) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(p[i:n], '\r')
		if j < 0 {
			break
		}
		i += j
		next := byte(0)
		if i+1 < n {
			next = p[i+1]
		} else if b, perr := c.br.Peek(1); perr == nil {
			next = b[0]
		}
		if next != '\n' {
			p[i] = '\n'
		}
	}
	return n, err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
