package importfile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Format is the container of an uploaded file.
type Format string

// Formats; .csv, .tsv and .txt files are all FormatCSV.
const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// Encodings of CSV files (the override choices, in this order).
const (
	EncUTF8    = "utf-8"
	EncUTF8BOM = "utf-8-bom"
	EncUTF16LE = "utf-16le"
	EncUTF16BE = "utf-16be"
	EncGB18030 = "gb18030" // covers GBK and GB2312
)

// Encodings are the encodings a user may choose, in display order.
var Encodings = []string{EncUTF8, EncUTF8BOM, EncUTF16LE, EncUTF16BE, EncGB18030}

// Delimiters are the CSV delimiters a user may choose, in display order.
var Delimiters = []rune{',', ';', '\t'}

// Detected is what Detect found out about a file.
type Detected struct {
	Format    Format
	Encoding  string  // csv: detected encoding
	Delimiter rune    // csv: detected delimiter
	Sheets    []Sheet // xlsx: the worksheets in workbook order
	Sheet     string  // xlsx: the one to read unless the user chooses another (PreferredSheet)
}

// Options tell Open how to read a file.
type Options struct {
	Format    Format
	Encoding  string
	Delimiter rune
	Sheet     string // xlsx; "" = first sheet
}

// Options returns the detected defaults.
func (d Detected) Options() Options {
	return Options{Format: d.Format, Encoding: d.Encoding, Delimiter: d.Delimiter, Sheet: d.Sheet}
}

// PreferredSheet is the worksheet to read first: a visible one whose header
// names a column Mapping knows and that has rows under it, else the one
// holding the most rows (the first of equals). A note or an empty sheet
// before the list is not chosen over it.
func PreferredSheet(sheets []Sheet) string {
	best, bestScore := -1, [3]int{}
	for i, sh := range sheets {
		dataRows := sh.Rows - max(sh.HeaderRow, 1)
		score := [3]int{boolInt(!sh.Hidden), boolInt(sh.Recognised && (dataRows > 0 || sh.More)), sh.Rows}
		if best < 0 || slices.Compare(score[:], bestScore[:]) > 0 {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return ""
	}
	return sheets[best].Name
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const (
	headSize      = 8 << 10  // bytes inspected for BOM, NUL and zip magic
	sampleLines   = 20       // lines used to guess the delimiter
	sampleMaxSize = 64 << 10 // decoded bytes read at most for that guess
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
	zipMagic   = []byte("PK\x03\x04")
)

// Detect inspects the file at path; name is the uploaded file name, whose
// extension decides csv vs xlsx. A .csv/.tsv/.txt that is really an xlsx
// workbook (Excel users rename files) is reported as FormatXLSX.
func Detect(path, name string) (Detected, error) {
	d, _, err := inspect(path, name, 0, 0)
	return d, err
}

// Inspect is Detect and then SampleFile with the detected options,
// opening a workbook once for both.
func Inspect(path, name string, n int, budget int64) (Detected, Sample, error) {
	return inspect(path, name, n, budget)
}

// inspect detects the file and samples its first n records (none for 0).
func inspect(path, name string, n int, budget int64) (Detected, Sample, error) {
	d, xlsx, err := detectFile(path, name, n, budget)
	if err != nil || d.Format == FormatXLSX || n == 0 {
		return d, xlsx, err
	}
	s, err := SampleFile(path, d.Options(), n, budget)
	return d, s, err
}

// detectFile is Detect; a workbook's sample comes with it.
func detectFile(path, name string, n int, budget int64) (Detected, Sample, error) {
	ext := strings.ToLower(filepath.Ext(name))
	var format Format
	switch ext {
	case ".csv", ".tsv", ".txt":
		format = FormatCSV
	case ".xlsx":
		format = FormatXLSX
	default:
		return Detected{}, Sample{}, newError(CodeUnsupported, 0, "extension %q", ext)
	}
	head, err := readHead(path)
	if err != nil {
		return Detected{}, Sample{}, err
	}
	if len(head) == 0 {
		return Detected{}, Sample{}, newError(CodeEmpty, 0, "zero bytes")
	}
	if format == FormatXLSX || bytes.HasPrefix(head, zipMagic) {
		return detectXLSX(path, format, head, n, budget)
	}
	enc, err := detectEncoding(path, head)
	if err != nil {
		return Detected{}, Sample{}, err
	}
	blank, err := isBlank(path, enc)
	if err != nil {
		return Detected{}, Sample{}, err
	}
	if blank {
		return Detected{}, Sample{}, newError(CodeEmpty, 0, "only whitespace")
	}
	def := ','
	if ext == ".tsv" {
		def = '\t'
	}
	delim, err := detectDelimiter(path, enc, def)
	if err != nil {
		return Detected{}, Sample{}, err
	}
	return Detected{Format: FormatCSV, Encoding: enc, Delimiter: delim}, Sample{}, nil
}

// inspectXLSX opens a workbook once: its sheets, the preferred one, and
// that one's sample (none for n = 0).
func inspectXLSX(path string, n int, budget int64) (Detected, Sample, error) {
	wb, err := openWorkbook(path)
	if err != nil {
		return Detected{}, Sample{}, err
	}
	defer wb.close()
	sheets, err := wb.scanSheets()
	if err != nil {
		return Detected{}, Sample{}, err
	}
	d := Detected{Format: FormatXLSX, Sheets: sheets, Sheet: PreferredSheet(sheets)}
	if n == 0 {
		return d, Sample{}, nil
	}
	smp, err := wb.sample(d.Sheet, n, budget)
	return d, smp, err
}

// detectXLSX handles a workbook, or something that looks like one: a zip
// named .csv that is not a workbook is just binary garbage to the user.
func detectXLSX(path string, format Format, head []byte, n int, budget int64) (Detected, Sample, error) {
	if !bytes.HasPrefix(head, zipMagic) {
		return Detected{}, Sample{}, newError(CodeXLSX, 0, "not a zip file")
	}
	d, smp, err := inspectXLSX(path, n, budget)
	if err != nil {
		var fe *Error
		if format == FormatCSV && (!errors.As(err, &fe) || fe.Code != CodeXLSXLimit) {
			return Detected{}, Sample{}, newError(CodeBinary, 0, "zip file that is not a workbook: %v", err)
		}
		return Detected{}, Sample{}, err
	}
	return d, smp, nil
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, headSize)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, err
	}
	return head[:n], nil
}

// detectEncoding: BOM first, then strict UTF-8 over the whole file, else
// GB18030 (what Excel on Chinese Windows writes as "CSV").
func detectEncoding(path string, head []byte) (string, error) {
	switch {
	case bytes.HasPrefix(head, bomUTF16LE):
		return EncUTF16LE, nil
	case bytes.HasPrefix(head, bomUTF16BE):
		return EncUTF16BE, nil
	}
	// UTF-16 without a BOM is not supported: its NUL bytes make it binary.
	if bytes.IndexByte(head, 0) >= 0 {
		return "", newError(CodeBinary, 0, "NUL byte in the first %d bytes", headSize)
	}
	if bytes.HasPrefix(head, bomUTF8) {
		return EncUTF8BOM, nil
	}
	valid, err := validUTF8File(path)
	if err != nil {
		return "", err
	}
	if valid {
		return EncUTF8, nil
	}
	return EncGB18030, nil
}

// validUTF8File checks the whole file in chunks; a multi-byte sequence cut
// by a chunk boundary is carried over to the next chunk.
func validUTF8File(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	carry := 0
	for {
		n, err := io.ReadFull(f, buf[carry:])
		n += carry
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return false, err
		}
		chunk := buf[:n]
		carry = 0
		if !eof {
			carry = incompleteTail(chunk)
		}
		if !utf8.Valid(chunk[:n-carry]) {
			return false, nil
		}
		if eof {
			return true, nil
		}
		copy(buf, chunk[n-carry:])
	}
}

// incompleteTail returns how many trailing bytes of b start a UTF-8
// sequence that b does not complete (0 to 3).
func incompleteTail(b []byte) int {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
		c := b[len(b)-i]
		if utf8.RuneStart(c) {
			if c >= utf8.RuneSelf && !utf8.FullRune(b[len(b)-i:]) {
				return i
			}
			return 0
		}
	}
	return 0
}

// isBlank reports whether the decoded file holds only whitespace and BOMs.
// It normally stops at the first bytes; only a blank file is read entirely.
func isBlank(path, enc string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	dec, err := decoder(f, enc)
	if err != nil {
		return false, err
	}
	br := bufio.NewReaderSize(dec, 64<<10)
	for {
		r, _, err := br.ReadRune()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if !unicode.IsSpace(r) && r != '\uFEFF' {
			return false, nil
		}
	}
}

// detectDelimiter counts the candidate delimiters outside quotes in the first
// lines and picks the one whose non-zero count is the most consistent.
func detectDelimiter(path, enc string, def rune) (rune, error) {
	f, err := os.Open(path)
	if err != nil {
		return def, err
	}
	defer f.Close()
	dec, err := decoder(f, enc)
	if err != nil {
		return def, err
	}
	sample, err := io.ReadAll(io.LimitReader(dec, sampleMaxSize+1))
	if err != nil {
		return def, err
	}
	truncated := len(sample) > sampleMaxSize
	lines := splitSample(sample, truncated)
	// The default goes first so that it wins ties, then the display order.
	best, bestScore, bestMode := def, 0, 0
	for _, d := range append([]rune{def}, Delimiters...) {
		score, mode := delimiterScore(lines, byte(d))
		if score > bestScore || score == bestScore && mode > bestMode {
			best, bestScore, bestMode = d, score, mode
		}
	}
	return best, nil
}

// splitSample cuts decoded text into up to sampleLines non-blank lines,
// ignoring newlines inside quoted fields. A line cut by the sample size is
// dropped unless it is the only one.
func splitSample(s []byte, truncated bool) [][]byte {
	var lines [][]byte
	inQuote, start := false, 0
	for i := 0; i < len(s) && len(lines) < sampleLines; i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case '\n':
			if !inQuote {
				lines = appendLine(lines, s[start:i])
				start = i + 1
			}
		}
	}
	if len(lines) < sampleLines && start < len(s) && (!truncated || len(lines) == 0) {
		lines = appendLine(lines, s[start:])
	}
	return lines
}

func appendLine(lines [][]byte, l []byte) [][]byte {
	if len(bytes.TrimSpace(l)) == 0 {
		return lines
	}
	return append(lines, l)
}

// delimiterScore returns how many lines share the most common non-zero count
// of d outside quotes (score), and that count (mode).
func delimiterScore(lines [][]byte, d byte) (score, mode int) {
	freq := map[int]int{}
	for _, l := range lines {
		n, inQuote := 0, false
		for _, c := range l {
			if c == '"' {
				inQuote = !inQuote
			} else if c == d && !inQuote {
				n++
			}
		}
		if n > 0 {
			freq[n]++
		}
	}
	for n, f := range freq {
		if f > score || f == score && n > mode {
			score, mode = f, n
		}
	}
	return score, mode
}
