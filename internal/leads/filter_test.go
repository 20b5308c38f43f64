package leads

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
)

// A filter reads what it writes; overlong values and bad dates are
// dropped; Active ignores the business type.
func TestFilterReadsWhatItWrites(t *testing.T) {
	t.Parallel()
	f := Filter{BusinessType: "bt1", Query: "云栖 科技", Owner: "18401", Source: "web", LeadPool: "p1",
		CreatedFrom: "2026-01-02", CreatedTo: "2026-01-31", UpdatedFrom: "2026-02-01", UpdatedTo: "2026-02-28"}
	v := f.Values()
	if got := ReadFilter(v.Get); got != f {
		t.Fatalf("read back %+v from %s", got, v.Encode())
	}
	if len(v) != 9 || !f.Active() {
		t.Fatalf("values %v, active %t", v, f.Active())
	}
	if (Filter{BusinessType: "bt1"}).Active() || len((Filter{}).Values()) != 0 {
		t.Fatal("an empty filter narrows something")
	}
	raw := url.Values{"business_type": {strings.Repeat("b", FilterIDMax+1)}, "q": {"  李娜  "}, "owner": {strings.Repeat("o", FilterIDMax)},
		"created_from": {"2026-13-01"}, "updated_to": {"yesterday"}, "created_to": {"2026-02-29"}}
	got := ReadFilter(raw.Get)
	want := Filter{Query: "李娜", Owner: strings.Repeat("o", FilterIDMax)}
	if got != want {
		t.Fatalf("read %+v, want %+v", got, want)
	}
	if q := ReadFilter(url.Values{"q": {strings.Repeat("x", FilterQueryMax+1)}}.Get); q.Query != "" {
		t.Fatal("an overlong search kept")
	}
}

// Select makes days whole days in the zone: from the first second of the
// first day to the last second of the last.
func TestFilterSelectsWholeDaysInTheZone(t *testing.T) {
	t.Parallel()
	zone, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	f := Filter{BusinessType: "bt1", Query: "q", Owner: "o", Source: "s", LeadPool: "p",
		CreatedFrom: "2026-03-01", CreatedTo: "2026-03-01", UpdatedTo: "2026-03-02"}
	first := time.Date(2026, 3, 1, 0, 0, 0, 0, zone).Unix()
	want := db.LeadFilter{BusinessType: "bt1", Query: "q", Owner: "o", Source: "s", LeadPool: "p",
		CreatedFrom: first, CreatedTo: first + 86400 - 1, UpdatedTo: first + 2*86400 - 1}
	if got := f.Select(zone); got != want {
		t.Fatalf("select %+v, want %+v", got, want)
	}
	if got := (Filter{}).Select(zone); got != (db.LeadFilter{}) {
		t.Fatalf("no filter selects %+v", got)
	}
}
