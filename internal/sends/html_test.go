package sends

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

func opener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An uploaded body is read as UTF-8; a GBK file that declares it is
// converted; anything else is refused naming the file, about "file".
func TestReadHTMLReadsUTF8AndDeclaredGBKOnly(t *testing.T) {
	declared := `<html><head><meta charset="gbk"></head><body><p>尊敬的车主</p></body></html>`
	for _, tc := range []struct {
		name   string
		body   []byte
		want   string
		reason string // "" for no refusal, else the message id's end
	}{
		{"utf-8", []byte("<p>你好</p>"), "<p>你好</p>", ""},
		{"utf-8 with a byte order mark", []byte("\xef\xbb\xbf<p>你好</p>"), "<p>你好</p>", ""},
		{"declared gbk", gbk(t, declared), strings.Replace(declared, "gbk", "utf-8", 1), ""},
		{"undeclared gbk", gbk(t, "<p>尊敬的车主</p>"), "", "file_not_utf8"},
		{"other charset", append([]byte(`<meta charset="big5">`), 0xa4, 0xa4), "", "file_not_utf8"},
		{"empty", []byte(" \n "), "", "file_empty"},
		{"binary", []byte("PK\x03\x04\x00\x00"), "", "file_binary"},
		{"too large", bytes.Repeat([]byte("x"), HTMLMax+1), "", "html_too_large"},
	} {
		got, err := ReadHTML("a.html", opener(tc.body))
		if tc.reason == "" {
			if err != nil || got != tc.want {
				t.Errorf("%s: %q, %v", tc.name, got, err)
			}
			continue
		}
		r, ok := msg.AsError(err)
		if !ok || r.Msg.ID != "sends.error."+tc.reason || r.Field != "file" {
			t.Errorf("%s: %v, want sends.error.%s about the file", tc.name, err, tc.reason)
		}
	}
	_, err := ReadHTML("gone.html", func() (io.ReadCloser, error) { return nil, errors.New("disk") })
	if r, ok := msg.AsError(err); !ok || r.Msg.ID != "sends.error.file_unreadable" || r.Msg.Args[0].Text != "gone.html" {
		t.Errorf("unreadable: %v", err)
	}
}
