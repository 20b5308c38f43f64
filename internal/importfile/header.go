package importfile

import (
	"strings"
	"unicode"
)

// HeaderWithin is how many rows from the top the header is looked for in
// (and how many the user may choose from).
const HeaderWithin = headerWithin

// FindHeader proposes the header among the first HeaderWithin records (as
// Head returns them, from row 1): the first row whose cells name a column
// Mapping knows (recognised), else the first that looks like a header
// (several text cells, none of them a value such as a mobile or an email,
// with a row under it), else the first row that is not empty. Title rows,
// export banners and blank rows above it are title rows. It returns 0 for
// records that are all empty.
func FindHeader(records []Record) (row int, recognised bool) {
	if len(records) > HeaderWithin {
		records = records[:HeaderWithin]
	}
	for _, r := range records {
		for _, role := range AutoMap(r.Fields) {
			if role != ColIgnore {
				return r.Row, true
			}
		}
	}
	for i, r := range records {
		if looksLikeHeader(r) && hasRowAfter(records[i+1:]) {
			return r.Row, false
		}
	}
	for _, r := range records {
		if r.Problem == "" && !EmptyRecord(r.Fields) {
			return r.Row, false
		}
	}
	return 0, false
}

// looksLikeHeader: at least two non-empty cells, all of them words rather
// than values. A merged title is one cell; a data row has numbers in it.
func looksLikeHeader(r Record) bool {
	if r.Problem != "" {
		return false
	}
	n := 0
	for _, f := range r.Fields {
		if f == "" {
			continue
		}
		if looksLikeValue(f) {
			return false
		}
		n++
	}
	return n >= 2
}

// looksLikeValue: a cell with digits in it, or an email.
func looksLikeValue(s string) bool {
	return strings.ContainsFunc(s, unicode.IsDigit) || strings.Contains(s, "@")
}

func hasRowAfter(records []Record) bool {
	for _, r := range records {
		if r.Problem != "" || !EmptyRecord(r.Fields) {
			return true
		}
	}
	return false
}
