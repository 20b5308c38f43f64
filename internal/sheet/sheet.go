// Package sheet is the one spreadsheet writer every export goes through:
// CSV in UTF-8 with a byte-order mark (so Excel on Chinese Windows keeps
// the Chinese) and CRLF line ends, or an xlsx workbook streamed through
// excelize. Text that a spreadsheet program would read as a formula
// (CSV injection: "=HYPERLINK(…)", "=cmd|…", "+…", "-…", "@…") is written
// as text, so data from the platform or an uploaded file is never code.
package sheet

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Format is a file type an export can be written in.
type Format string

const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ContentType is the media type to serve a format with.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// formulaStarts are the first characters that make Excel, LibreOffice or
// WPS read a CSV cell as a formula (or a DDE call): = + - @, tab and the
// line breaks, and their full-width forms, which the Chinese input
// methods type and which spreadsheet programs in a CJK locale may take
// as the ASCII ones.
const formulaStarts = "=+-@\t\r\n＝＋－＠"

// Guard returns text as a CSV cell a spreadsheet shows as the same text:
// a cell that starts like a formula gets a leading apostrophe, which the
// spreadsheet reads as "this is text" (OWASP's advice for CSV injection).
func Guard(text string) string {
	if text != "" && strings.ContainsRune(formulaStarts, firstRune(text)) {
		return "'" + text
	}
	return text
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

// Writer writes rows to one file. Cells are text (string, written as
// text and guarded in CSV) or numbers (int, int64, float64: numbers in
// xlsx, plain digits in CSV, never guarded: a number is not a formula).
type Writer struct {
	format Format
	out    io.Writer
	csv    *csv.Writer
	book   *excelize.File
	stream *excelize.StreamWriter
	row    int
	closed bool
}

// New starts a file of format f on out. A CSV's byte-order mark is
// written at once; an xlsx is written to out by Close (its rows wait in
// excelize's temporary file, not in memory).
func New(out io.Writer, f Format) (*Writer, error) {
	w := &Writer{format: f, out: out}
	switch f {
	case CSV:
		if _, err := io.WriteString(out, "\uFEFF"); err != nil {
			return nil, err
		}
		w.csv = csv.NewWriter(out)
		w.csv.UseCRLF = true // what Excel writes and expects
	case XLSX:
		w.book = excelize.NewFile()
		sw, err := w.book.NewStreamWriter(w.book.GetSheetName(0))
		if err != nil {
			w.book.Close()
			return nil, err
		}
		w.stream = sw
	default:
		return nil, fmt.Errorf("sheet: unknown format %q", f)
	}
	return w, nil
}

// Write adds one row.
func (w *Writer) Write(cells ...any) error {
	if w.csv != nil {
		rec := make([]string, len(cells))
		for i, c := range cells {
			rec[i] = csvCell(c)
		}
		return w.csv.Write(rec)
	}
	w.row++
	at, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return err
	}
	vals := make([]any, len(cells))
	for i, c := range cells {
		vals[i] = xlsxCell(c)
	}
	return w.stream.SetRow(at, vals)
}

// WriteText adds a row of text cells.
func (w *Writer) WriteText(cells ...string) error {
	row := make([]any, len(cells))
	for i, c := range cells {
		row[i] = c
	}
	return w.Write(row...)
}

// Flush sends the CSV rows written so far on (a long export streams page
// by page) and reports a write error; for xlsx it does nothing.
func (w *Writer) Flush() error {
	if w.csv == nil {
		return nil
	}
	w.csv.Flush()
	return w.csv.Error()
}

// Close finishes the file: flushes a CSV, or writes the workbook to out.
func (w *Writer) Close() error {
	if w.csv != nil {
		return w.Flush()
	}
	defer w.Discard()
	if err := w.stream.Flush(); err != nil {
		return err
	}
	_, err := w.book.WriteTo(w.out)
	return err
}

// Discard drops an unfinished workbook's temporary file; after Close it
// does nothing. Defer it where an export can stop half-way.
func (w *Writer) Discard() {
	if w.book != nil && !w.closed {
		w.closed = true
		w.book.Close()
	}
}

func csvCell(c any) string {
	switch v := c.(type) {
	case string:
		return Guard(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	}
	return Guard(fmt.Sprint(c))
}

// xlsxCell: text is stored as a string cell, which a spreadsheet never
// evaluates, so it needs no apostrophe; anything else but a number
// becomes text too.
func xlsxCell(c any) any {
	switch v := c.(type) {
	case string, int, int64, float64, nil:
		return v
	}
	return fmt.Sprint(c)
}
