package sends

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// HTMLMax is the largest email body, uploaded or pasted (2 MB).
const HTMLMax = 2 << 20

// ReadHTML reads an uploaded email body, the file name, as UTF-8: UTF-8
// as it is (a byte order mark dropped); a GBK/GB2312/GB18030 file that
// says so in its charset declaration converted, its declaration then
// saying UTF-8. Any other encoding is refused, as is an empty, binary,
// unreadable or too large file: each a refusal naming the file, about
// the "file" field. open is called once; what it returns is closed.
func ReadHTML(name string, open func() (io.ReadCloser, error)) (string, error) {
	f, err := open()
	if err != nil {
		return "", fileRefusal("unreadable", name)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, HTMLMax+1))
	switch {
	case err != nil:
		return "", fileRefusal("unreadable", name)
	case len(b) > HTMLMax:
		return "", ErrFileTooLarge
	}
	html, problem := decodeHTML(b)
	if problem != "" {
		return "", fileRefusal(problem, name)
	}
	return html, nil
}

var htmlCharset = regexp.MustCompile(`(?i)<meta[^>]*charset\s*=\s*["']?\s*([a-z0-9_.:-]+)`)

// decodeHTML is ReadHTML's decoding, on the bytes: the text, or why not
// ("empty", "binary", "not_utf8").
func decodeHTML(b []byte) (string, string) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(b)) == 0 {
		return "", "empty"
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return "", "binary"
	}
	if utf8.Valid(b) {
		return string(b), ""
	}
	head := b[:min(len(b), 4096)]
	m := htmlCharset.FindSubmatchIndex(head)
	if m == nil {
		return "", "not_utf8"
	}
	switch strings.ToLower(string(head[m[2]:m[3]])) {
	case "gbk", "gb2312", "gb18030", "x-gbk", "cp936", "windows-936":
	default:
		return "", "not_utf8"
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(out) {
		return "", "not_utf8"
	}
	// The declaration is ASCII, so it sits at the same offsets after decoding.
	if loc := htmlCharset.FindSubmatchIndex(out[:min(len(out), 8192)]); loc != nil {
		out = append(append(append([]byte{}, out[:loc[2]]...), "utf-8"...), out[loc[3]:]...)
	}
	return string(out), ""
}
