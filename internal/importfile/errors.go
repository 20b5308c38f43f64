// Package importfile reads the spreadsheet files marketers upload (CSV/TSV/TXT
// in UTF-8, UTF-16 or GBK/GB18030, and .xlsx workbooks) as a stream of records,
// and normalises the identity values found in them (mobile, email, ids).
//
// It is pure Go: no database, no HTTP. Every function is safe on arbitrary
// input: malformed files produce an *Error with a stable Code, never a panic.
package importfile

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// Error is a file the importer cannot read, with a stable Code for translated messages.
type Error struct {
	Code   string // one of the Code* constants
	Line   int    // 1-based row where relevant, else 0
	Detail string // English detail for logs (never shown raw to users)
}

func (e *Error) Error() string {
	msg := "importfile: " + e.Code
	if e.Line > 0 {
		msg += fmt.Sprintf(" (row %d)", e.Line)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Message is the error as a person reads it (msg.Carrier): the catalogs'
// imports.error.<Code>, with the row as Line; a code without a sentence of
// its own (one a later version wrote, a damaged record) reads as a file
// that cannot be read this way.
func (e *Error) Message() msg.Message {
	if !slices.Contains(codes, e.Code) {
		return msg.New("imports.error." + CodeUnreadable)
	}
	// A row number, not a count: shown as it is, without separators.
	return msg.New("imports.error."+e.Code, msg.Str("Line", strconv.Itoa(e.Line)))
}

// Stable error codes: each has its sentence in the catalogs (imports.error.<code>).
const (
	CodeUnsupported = "unsupported" // extension not .csv/.tsv/.txt/.xlsx
	CodeEmpty       = "empty"       // zero bytes, or only whitespace/BOM
	CodeBinary      = "binary"      // not text (NUL bytes etc.) and not a valid xlsx
	CodeXLSX        = "xlsx"        // .xlsx that cannot be opened (corrupt / not a zip)
	CodeXLSXLimit   = "xlsx_limit"  // .xlsx over a limit (Max* constants): refused before it exhausts the server
	CodeSheet       = "sheet"       // the chosen sheet does not exist
	CodeHeaderRow   = "header_row"  // the header row chosen is past the end of the file
	CodeUnreadable  = "unreadable"  // the file cannot be read with the options chosen
)

// codes are the codes with a sentence of their own.
var codes = []string{CodeUnsupported, CodeEmpty, CodeBinary, CodeXLSX, CodeXLSXLimit, CodeSheet, CodeHeaderRow, CodeUnreadable}

// MaxRecordBytes bounds one CSV record (decoded) so that garbage input, such
// as an unterminated quote at the top of a 100 MB file, cannot exhaust
// memory: a longer line is a row with ProblemTooLong, and a quoted cell
// that runs longer is broken quoting.
const MaxRecordBytes = 1 << 20

func newError(code string, line int, format string, args ...any) *Error {
	return &Error{Code: code, Line: line, Detail: fmt.Sprintf(format, args...)}
}
