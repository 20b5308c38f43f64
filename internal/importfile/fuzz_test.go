package importfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"
)

func FuzzCSV(f *testing.F) {
	f.Add([]byte(chineseCSV))
	f.Add([]byte("\xEF\xBB\xBFa;b\r\n\"x\"\"y\";2\r\n"))
	f.Add([]byte("a\tb\n\"open\tquote\nmore"))
	f.Add([]byte("a,b\r1,2\r\r"))
	f.Add([]byte("\"\"\"\n,\"\n"))
	if b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(chineseCSV)); err == nil {
		f.Add(b)
	}
	le := xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM)
	if b, err := le.NewEncoder().Bytes([]byte(chineseCSV)); err == nil {
		f.Add(b)
	}
	f.Add([]byte("PK\x03\x04garbage"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			t.Skip()
		}
		p := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := Detect(p, "fuzz.csv")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Detect: non-*Error %v", err)
			}
			return
		}
		r, err := Open(p, d.Options())
		if err != nil {
			t.Fatalf("Open after Detect: %v", err)
		}
		defer r.Close()
		last := 0
		for n := 0; ; n++ {
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Next: non-*Error %v", err)
				}
				return
			}
			if rec.Line <= last {
				t.Fatalf("line %d after %d", rec.Line, last)
			}
			last = rec.Line
			for i, s := range rec.Fields {
				if !utf8.ValidString(s) || strings.HasPrefix(s, "\uFEFF") || s != strings.TrimSpace(s) {
					t.Fatalf("field %d %q", i, s)
				}
			}
			if n > len(data)+1 {
				t.Fatalf("more records than bytes")
			}
		}
	})
}
