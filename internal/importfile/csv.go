package importfile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// csvRecords reads the records of decoded text, strictly, and accounts
// for every line.
//
// A cell that starts with a quote (after spaces) is quoted: it ends at a
// quote followed by the delimiter or the end of the line, "" stands for a
// quote, and it may run over several lines. A quote in the middle of an
// unquoted cell is an ordinary character (that is how Excel reads it, and
// nothing about the row is uncertain). Anything else is broken quoting:
// the record's first line becomes a row of its own with ProblemQuote, and
// reading goes on with the next line. So a stray quote costs the one row
// it is on, never the rows after it.
//
// Blank lines are rows (empty ones), as a spreadsheet shows them, so the
// Row of a record is the row a user sees when they open the file.
type csvRecords struct {
	src     *bufio.Reader // decoded UTF-8 text, lone CRs already LFs
	delim   byte
	lines   int        // physical lines read from src
	row     int        // records returned
	pending []physLine // lines read ahead and given back by a broken record
	p       csvParser  // reused from record to record
}

// physLine is one line of the file, without its line end. Its text may
// point into src's buffer (valid until the next read) unless owned.
type physLine struct {
	no      int
	text    []byte
	tooLong bool // longer than MaxRecordBytes: text holds its start only
}

// own makes the line's text its own, to keep it past the next read.
func (l physLine) own() physLine {
	l.text = bytes.Clone(l.text)
	return l
}

func newCSVRecords(src *bufio.Reader, delim byte) *csvRecords {
	return &csvRecords{src: src, delim: delim}
}

// next returns the next record, or io.EOF.
func (c *csvRecords) next() (Record, error) {
	first, err := c.takeLine()
	if err != nil {
		return Record{}, err
	}
	c.row++
	rec := Record{Row: c.row, Line: first.no, Lines: 1}
	if first.tooLong {
		rec.Problem, rec.Text = ProblemTooLong, clipText(first.text)
		return rec, nil
	}
	p := &c.p
	p.reset(c.delim)
	complete, broken := p.feed(first.text)
	if complete {
		return c.finish(rec), nil // the common case: one line, read in place
	}
	first = first.own()
	taken := []physLine{first}
	size := len(first.text)
	for !complete && !broken {
		more, err := c.takeLine()
		if errors.Is(err, io.EOF) {
			broken = true // the quote is never closed
			break
		}
		if err != nil {
			return Record{}, err
		}
		more = more.own()
		taken = append(taken, more)
		size += len(more.text) + 1
		if more.tooLong || size > MaxRecordBytes {
			broken = true
			break
		}
		complete, broken = p.feed(more.text)
	}
	if broken {
		// The lines after the first were read as part of a quoted cell
		// that turned out not to be one: they are rows of their own.
		c.pending = append(taken[1:len(taken):len(taken)], c.pending...)
		rec.Problem, rec.Text = ProblemQuote, clipText(first.text)
		return rec, nil
	}
	rec.Lines = len(taken)
	return c.finish(rec), nil
}

// finish gives a record its cells, cleaned, at most MaxColumns of them:
// one string holds them all (one allocation per record, as encoding/csv).
func (c *csvRecords) finish(rec Record) Record {
	text := string(c.p.buf)
	valid := utf8.ValidString(text)
	fields := make([]string, len(c.p.ends))
	start := 0
	for i, end := range c.p.ends {
		f := text[start:end]
		if !valid {
			f = strings.ToValidUTF8(f, "\uFFFD")
		}
		fields[i] = trimField(f)
		start = end
	}
	if len(fields) > MaxColumns {
		if !EmptyRecord(fields[MaxColumns:]) {
			rec.Problem = ProblemTooWide
		}
		fields = fields[:MaxColumns]
	}
	rec.Fields = fields
	return rec
}

// takeLine returns a line given back first, else the next line of src.
func (c *csvRecords) takeLine() (physLine, error) {
	if len(c.pending) > 0 {
		l := c.pending[0]
		c.pending = c.pending[1:]
		return l, nil
	}
	return c.readLine()
}

// readLine reads one physical line: in place when it fits src's buffer,
// else copied. A line longer than MaxRecordBytes is read to its end but
// only its start is kept.
func (c *csvRecords) readLine() (physLine, error) {
	chunk, err := c.src.ReadSlice('\n')
	if err == nil || (errors.Is(err, io.EOF) && len(chunk) > 0) {
		c.lines++
		return physLine{no: c.lines, text: trimLineEnd(chunk)}, nil
	}
	var buf []byte
	tooLong := false
	for first := true; ; first = false {
		if !first {
			chunk, err = c.src.ReadSlice('\n')
		}
		if !tooLong {
			if len(buf)+len(chunk) > MaxRecordBytes+2 { // +2: the CRLF itself
				tooLong = true
				buf = append(buf, chunk[:min(len(chunk), maxTextBytes)]...)
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(buf) == 0 {
				return physLine{}, io.EOF
			}
		case err != nil:
			return physLine{}, err
		}
		c.lines++
		return physLine{no: c.lines, text: trimLineEnd(buf), tooLong: tooLong}, nil
	}
}

func trimLineEnd(b []byte) []byte {
	return bytes.TrimSuffix(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\r'})
}

// csvParser splits the lines of one record into cells: their bytes one
// after the other in buf, each ending at ends[i].
type csvParser struct {
	delim  byte
	buf    []byte
	ends   []int
	quoted bool // inside a quoted cell that goes on on the next line
}

func (p *csvParser) reset(delim byte) {
	p.delim, p.buf, p.ends, p.quoted = delim, p.buf[:0], p.ends[:0], false
}

// feed parses one more line of the record: complete once the record ends
// with it, broken when its quoting is wrong.
func (p *csvParser) feed(line []byte) (complete, broken bool) {
	i := 0
	if p.quoted { // a quoted cell goes on from the line before
		p.buf = append(p.buf, '\n')
		if complete, broken, i = p.quotedCellFrom(line, 0); complete || broken || p.quoted {
			return complete, broken
		}
	}
	for {
		if j := p.skipBlanks(line, i); j < len(line) && line[j] == '"' {
			if complete, broken, i = p.quotedCellFrom(line, j+1); complete || broken || p.quoted {
				return complete, broken
			}
			continue
		}
		k := bytes.IndexByte(line[i:], p.delim)
		if k < 0 {
			p.buf = append(p.buf, line[i:]...)
			p.endField()
			return true, false
		}
		p.buf = append(p.buf, line[i:i+k]...)
		p.endField()
		i += k + 1
	}
}

// quotedCellFrom reads a quoted cell whose content starts at line[i]. It
// ends the record (complete), finds the quoting broken, runs over the end
// of the line (p.quoted stays set), or ends at a delimiter and returns the
// index after it.
func (p *csvParser) quotedCellFrom(line []byte, i int) (complete, broken bool, next int) {
	p.quoted = true
	for {
		k := bytes.IndexByte(line[i:], '"')
		if k < 0 {
			p.buf = append(p.buf, line[i:]...)
			return false, false, len(line)
		}
		p.buf = append(p.buf, line[i:i+k]...)
		i += k + 1
		if i < len(line) && line[i] == '"' {
			p.buf = append(p.buf, '"')
			i++
			continue
		}
		p.quoted = false
		i = p.skipBlanks(line, i)
		switch {
		case i == len(line):
			p.endField()
			return true, false, i
		case line[i] != p.delim:
			return false, true, i
		}
		p.endField()
		return false, false, i + 1
	}
}

// skipBlanks skips spaces and tabs (unless tab is the delimiter).
func (p *csvParser) skipBlanks(line []byte, i int) int {
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') && line[i] != p.delim {
		i++
	}
	return i
}

func (p *csvParser) endField() { p.ends = append(p.ends, len(p.buf)) }

// maxTextBytes bounds the text kept of a row that cannot be split into
// cells, for the rejected rows' report.
const maxTextBytes = 512

// clipText is the start of a line as valid UTF-8, at most maxTextBytes.
func clipText(b []byte) string {
	if len(b) > maxTextBytes {
		b = b[:maxTextBytes]
	}
	return cleanField(string(b))
}
