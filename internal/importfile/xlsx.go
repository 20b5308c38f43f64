package importfile

import (
	"io"
	"slices"

	"github.com/xuri/excelize/v2"
)

// xlsxRows streams the rows of one worksheet.
type xlsxRows struct {
	f    *excelize.File
	rows *excelize.Rows
	row  int // number of the row last returned
}

// guard turns a panic inside excelize (a large parser fed untrusted input)
// into a CodeXLSX error.
func guard(err *error) {
	if p := recover(); p != nil {
		*err = newError(CodeXLSX, 0, "excelize panic: %v", p)
	}
}

func xlsxSheets(path string) (sheets []string, err error) {
	defer guard(&err)
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, newError(CodeXLSX, 0, "%v", err)
	}
	defer f.Close()
	sheets = f.GetSheetList()
	if len(sheets) == 0 {
		return nil, newError(CodeXLSX, 0, "workbook without sheets")
	}
	return sheets, nil
}

func openXLSX(path, sheet string) (x *xlsxRows, err error) {
	defer guard(&err)
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, newError(CodeXLSX, 0, "%v", err)
	}
	sheets := f.GetSheetList()
	switch {
	case sheet == "" && len(sheets) == 0:
		f.Close()
		return nil, newError(CodeXLSX, 0, "workbook without sheets")
	case sheet == "":
		sheet = sheets[0]
	case !slices.Contains(sheets, sheet):
		f.Close()
		return nil, newError(CodeSheet, 0, "no sheet %q", sheet)
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, newError(CodeXLSX, 0, "%v", err)
	}
	return &xlsxRows{f: f, rows: rows}, nil
}

// next returns the next row; empty rows come back with no fields, so that
// Line is always the worksheet row number.
func (x *xlsxRows) next() (rec Record, err error) {
	defer guard(&err)
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return Record{}, newError(CodeXLSX, x.row+1, "%v", err)
		}
		return Record{}, io.EOF
	}
	x.row++
	// Raw values: a phone stored as a number reads 13800138000, not 1.38E+10.
	cols, err := x.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return Record{}, newError(CodeXLSX, x.row, "%v", err)
	}
	fields := make([]string, len(cols))
	for i, c := range cols {
		fields[i] = cleanField(c)
	}
	return Record{Line: x.row, Fields: fields}, nil
}

func (x *xlsxRows) close() (err error) {
	defer guard(&err)
	rerr := x.rows.Close()
	if ferr := x.f.Close(); ferr != nil {
		return ferr
	}
	return rerr
}
