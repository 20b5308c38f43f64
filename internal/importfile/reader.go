package importfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
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

// Record is one row as read: Line is the 1-based line (csv: line where the
// record starts, counting CRLF correctly and multi-line quoted fields) or row
// number (xlsx). Fields are trimmed of surrounding spaces; a UTF-8 BOM never
// appears in the first field.
type Record struct {
	Line   int
	Fields []string
}

// Reader streams the records of a file, header first, decoding on the fly.
// Blank rows before the header are skipped (encoding/csv skips empty lines
// anyway; this makes workbooks whose first rows are empty behave the same).
type Reader struct {
	file    *os.File
	csv     *csv.Reader
	lim     *limitReader
	lastEnd int // csv: line where the previous record ended

	xl *xlsxRows

	started bool  // the header has been returned
	err     error // sticky: once a file went wrong, it stays wrong
}

// csvBufSize is the bufio size encoding/csv uses internally: it may read
// that much beyond the record it is parsing.
const csvBufSize = 4096

// Open opens the file at path for reading with the given options. A zero
// Encoding means UTF-8 and a zero Delimiter means ','.
func Open(path string, opt Options) (*Reader, error) {
	switch opt.Format {
	case FormatCSV:
		return openCSV(path, opt)
	case FormatXLSX:
		xl, err := openXLSX(path, opt.Sheet)
		if err != nil {
			return nil, err
		}
		return &Reader{xl: xl}, nil
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
	dec, err := decoder(f, opt.Encoding)
	if err != nil {
		f.Close()
		return nil, err
	}
	lim := &limitReader{r: crReader{dec}}
	cr := csv.NewReader(lim)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	return &Reader{file: f, csv: cr, lim: lim}, nil
}

func validDelimiter(d rune) bool {
	return d != '"' && d != '\r' && d != '\n' && d != utf8.RuneError && utf8.ValidRune(d)
}

// Next returns the next record: io.EOF at the end, an *Error for malformed
// input. Errors are sticky.
func (r *Reader) Next() (Record, error) {
	for r.err == nil {
		rec, err := r.next()
		if err != nil {
			r.err = err
			break
		}
		if !r.started && EmptyRecord(rec.Fields) {
			continue
		}
		r.started = true
		return rec, nil
	}
	return Record{}, r.err
}

func (r *Reader) next() (Record, error) {
	if r.xl != nil {
		return r.xl.next()
	}
	if r.csv == nil {
		return Record{}, errors.New("importfile: reader is closed")
	}
	return r.nextCSV()
}

func (r *Reader) nextCSV() (Record, error) {
	// Allow the bytes of one record plus what csv's bufio reads ahead.
	r.lim.limit = r.csv.InputOffset() + MaxRecordBytes + csvBufSize
	fields, err := r.csv.Read()
	if err != nil {
		return Record{}, r.csvError(err)
	}
	line, _ := r.csv.FieldPos(0)
	last := len(fields) - 1
	endLine, _ := r.csv.FieldPos(last)
	r.lastEnd = endLine + strings.Count(fields[last], "\n")
	out := make([]string, len(fields)) // ReuseRecord: copy fields out
	for i, s := range fields {
		out[i] = cleanField(s)
	}
	return Record{Line: line, Fields: out}, nil
}

func (r *Reader) csvError(err error) error {
	var pe *csv.ParseError
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.Is(err, errTooBig):
		return newError(CodeRecordSize, r.lastEnd+1, "record longer than %d bytes", MaxRecordBytes)
	case errors.As(err, &pe):
		line := pe.StartLine
		if line == 0 {
			line = pe.Line
		}
		return newError(CodeMalformed, line, "%v", pe.Err)
	}
	return err
}

// Close releases the file. It is safe to call more than once.
func (r *Reader) Close() error {
	var err error
	if r.xl != nil {
		err = r.xl.close()
		r.xl = nil
	}
	if r.file != nil {
		err = r.file.Close()
		r.file = nil
	}
	r.csv = nil
	if r.err == nil {
		r.err = errors.New("importfile: reader is closed")
	}
	return err
}

// Preview reads the first record as header and up to n more records (empty
// rows included). A file without any record is CodeEmpty.
func Preview(path string, opt Options, n int) (header []string, rows []Record, err error) {
	r, err := Open(path, opt)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	first, err := r.Next()
	if err == io.EOF {
		return nil, nil, newError(CodeEmpty, 0, "no records")
	}
	if err != nil {
		return nil, nil, err
	}
	for len(rows) < n {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return first.Fields, rows, err
		}
		rows = append(rows, rec)
	}
	return first.Fields, rows, nil
}

// cleanField trims spaces and stray BOMs (U+FEFF), and replaces invalid
// UTF-8 (a GBK file read as UTF-8 by choice) so that callers always get
// valid strings.
func cleanField(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' })
}

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

var errTooBig = errors.New("record too big")

// limitReader fails once more than limit bytes have been read in total;
// Reader moves the limit forward before each record.
type limitReader struct {
	r        io.Reader
	n, limit int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		return 0, errTooBig
	}
	if room := l.limit - l.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}
