package importfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// writeBig writes about size bytes of a typical contact list.
func writeBig(b *testing.B, name string, size int, gbk bool) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	var w io.Writer = bw
	if gbk {
		w = simplifiedchinese.GBK.NewEncoder().Writer(bw)
	}
	fmt.Fprintln(w, "姓名,手机号,邮箱,备注")
	written := 0
	for i := 0; written < size; i++ {
		n, _ := fmt.Fprintf(w, "张三%d,138%08d,user%d@example.com,\"北京市朝阳区, 王小明的客户\"\n", i, i, i)
		written += n
	}
	if c, ok := w.(io.Closer); ok {
		if err := c.Close(); err != nil { // flush the encoder first
			b.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	return p
}

// eachBigFile runs bench on a 20 MB contact list in UTF-8, then in GBK.
func eachBigFile(b *testing.B, bench func(b *testing.B, path string)) {
	for _, gbk := range []bool{false, true} {
		name := "utf8"
		if gbk {
			name = "gbk"
		}
		b.Run(name, func(b *testing.B) {
			p := writeBig(b, name+".csv", 20<<20, gbk)
			st, err := os.Stat(p)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(st.Size())
			bench(b, p)
		})
	}
}

func BenchmarkDetect(b *testing.B) {
	eachBigFile(b, func(b *testing.B, p string) {
		for b.Loop() {
			d, err := Detect(p, "big.csv")
			if err != nil || d.Delimiter != ',' {
				b.Fatalf("%+v %v", d, err)
			}
		}
	})
}

// BenchmarkReadCSV reads a 20 MB contact list in full, a record at a time.
func BenchmarkReadCSV(b *testing.B) {
	eachBigFile(b, func(b *testing.B, p string) {
		d, err := Detect(p, "big.csv")
		if err != nil {
			b.Fatal(err)
		}
		records := 0
		for b.Loop() {
			r, err := Open(p, d.Options())
			if err != nil {
				b.Fatal(err)
			}
			records = 0
			for {
				if _, err := r.Next(); err != nil {
					break
				}
				records++
			}
			r.Close()
		}
		b.ReportMetric(float64(records), "records")
	})
}
