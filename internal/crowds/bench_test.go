package crowds

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/jing"
)

// BenchmarkImport20000Rows runs the 20,000-row import (3% invalid, 10%
// unknown) against the sandbox with the import endpoints unpaced: the
// console's own cost per row (reading, validating, SQLite, HTTP).
func BenchmarkImport20000Rows(b *testing.B) {
	benchImport(b, importCatalog(b))
}

// BenchmarkImport20000RowsAtPlatformPace is the same import at the
// platform's documented pace (10 calls/s per endpoint), reported against
// the floor those limits set: the calls each phase needs over its rate.
// Run it with -benchtime 1x: one run takes about 25 s.
func BenchmarkImport20000RowsAtPlatformPace(b *testing.B) {
	benchImport(b, jing.DefaultCatalog())
}

func benchImport(b *testing.B, cat jing.Catalog) {
	r := newRigWith(b, cat)
	f := makeImportFile(b, r.sb, 20000)
	var took time.Duration
	run := 0
	for b.Loop() {
		run++
		id := r.prepare("bench.csv", f.csv)
		start := time.Now()
		if _, err := r.svc.Start(context.Background(), id, r.userID, "mia", Target{NewCrowd: fmt.Sprintf("bench %d", run), Again: true}); err != nil {
			b.Fatal(err)
		}
		r.waitImport(id)
		took += time.Since(start)
	}
	perRun := took / time.Duration(b.N)
	b.ReportMetric(float64(20000)/perRun.Seconds(), "rows/s")
	floor := paceFloor(cat, 20000-f.invalid)
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(perRun.Seconds()/floor.Seconds(), "x-floor")
}

// paceFloor is the least time the platform's limits allow for resolving
// valid rows (100 a call), creating the crowd and importing the known
// ones (1,000 a call), one phase after the other.
func paceFloor(cat jing.Catalog, valid int) time.Duration {
	calls := map[string]int{"users.identity_batch": (valid + 99) / 100, "crowds.create": 1, "crowds.detail": 2,
		"crowds.import": (valid + 999) / 1000}
	var floor float64
	for key, n := range calls {
		ep, _ := cat.Get(key)
		floor += float64(n) / ep.RatePerSecond
	}
	return time.Duration(floor * float64(time.Second))
}

// BenchmarkUploadAndValidate200kRows stores and validates a 200,000-row
// file (about 6 MB): every row normalised and written to SQLite, the
// duplicates marked, before any platform call; within the request (as a
// small file is) and as a job (as a file this size is).
func BenchmarkUploadAndValidate200kRows(b *testing.B) {
	var file bytes.Buffer
	file.WriteString("姓名,手机号码\n")
	for i := range 200000 {
		fmt.Fprintf(&file, "客户%d,+86 139-%04d-%04d\n", i, i/10000, i%10000)
	}
	data := file.Bytes()
	for _, mode := range []struct {
		name  string
		limit int64
	}{{"in-request", 1 << 30}, {"as-job", 0}} {
		b.Run(mode.name, func(b *testing.B) {
			r := newRigOpts(b, rigOptions{validateInRequest: mode.limit})
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r.prepare("big.csv", data)
			}
			b.ReportMetric(float64(200000*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
