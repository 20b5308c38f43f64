package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// The lead benchmarks share one database of benchLeads leads, built once
// per run (go test -bench Lead ./internal/db/) in a temporary directory
// removed by TestMain.
const benchLeads = 100_000

var bench struct {
	once  sync.Once
	dir   string
	store *Store
	err   error
	built time.Duration
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.store != nil {
		bench.store.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

func benchStore(b *testing.B) *Store {
	b.Helper()
	bench.once.Do(func() {
		start := time.Now()
		if bench.dir, bench.err = os.MkdirTemp("", "jingdesk-leads-bench-"); bench.err != nil {
			return
		}
		if bench.store, bench.err = Open(context.Background(), filepath.Join(bench.dir, "bench.db")); bench.err != nil {
			return
		}
		// A bigger page cache for the one writing connection speeds up
		// building the search index; the queries measured use the readers.
		if _, bench.err = bench.store.write.Exec(`PRAGMA cache_size = -131072`); bench.err != nil {
			return
		}
		bench.err = fillLeads(bench.store, benchLeads)
		bench.built = time.Since(start)
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	b.Logf("%d leads, built in %s", benchLeads, bench.built.Round(time.Millisecond))
	return bench.store
}

var (
	benchSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
	benchGiven    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞宇浩然子轩欣怡梓涵思远晨阳佳琪雨婷博文")
	benchCities   = []string{"杭州", "上海", "北京", "深圳", "广州", "成都", "武汉", "南京", "苏州", "西安", "重庆", "天津", "厦门", "青岛"}
	benchCores    = []string{"云栖", "浦江", "星河", "华信", "天元", "博雅", "中科", "瑞丰", "锦程", "鼎盛", "恒通", "新锐", "东方", "汇智",
		"启明", "盛世", "金桥", "远航", "蓝海", "智联", "腾跃", "安泰", "宏图", "九州"}
	benchTrades = []string{"科技", "网络", "数据", "贸易", "医疗", "教育", "物流", "传媒", "制造", "信息技术", "生物", "新能源"}
	benchForms  = []string{"有限公司", "股份有限公司", "集团有限公司"}
	benchTitles = []string{"市场总监", "采购经理", "总经理", "CTO", "销售经理", "运营主管", "产品经理", "财务总监", "IT 经理", "董事长助理"}
	benchSource = []string{"web", "expo", "ads", "referral", "wechat", "import"}
)

// benchBT is business type i; benchStatus is status j of business type i.
func benchBT(i int) string        { return fmt.Sprintf("bt%d", i) }
func benchStatus(i, j int) string { return fmt.Sprintf("bt%d-st%d", i, j) }

// fillLeads writes n realistic leads in big transactions: three business
// types (60/25/15 %), six statuses each (most leads early in the pipeline),
// 30 owners, a fifth unassigned in a pool, a year of updates, and the
// whole lead as the platform answers it (about 700 bytes, as leads synced
// from the sandbox carry: SyncedFields).
func fillLeads(s *Store, n int) error {
	rn := rand.New(rand.NewPCG(5, 5))
	pick := func(l []string) string { return l[rn.IntN(len(l))] }
	statusWeights := []int{30, 25, 15, 10, 12, 8}
	const batch = 20_000
	now := int64(1_800_000_000)
	leads := make([]Lead, 0, batch)
	for i := range n {
		bt := 1
		if r := rn.IntN(100); r >= 85 {
			bt = 3
		} else if r >= 60 {
			bt = 2
		}
		w, st := rn.IntN(100), 0
		for st < 5 && w >= statusWeights[st] {
			w -= statusWeights[st]
			st++
		}
		name := string(benchSurnames[rn.IntN(len(benchSurnames))]) + string(benchGiven[rn.IntN(len(benchGiven))])
		if rn.IntN(2) == 0 {
			name += string(benchGiven[rn.IntN(len(benchGiven))])
		}
		owner, pool := fmt.Sprint(18400+rn.IntN(30)), ""
		if rn.IntN(5) == 0 {
			owner, pool = "", "pool1"
		}
		created := now - rn.Int64N(365*86400)
		l := Lead{
			UUID: fmt.Sprintf("bench%08d", i), BusinessType: benchBT(bt), Status: benchStatus(bt, st+1),
			LifeStatus: "mql", LeadPool: pool, Owner: owner, Name: name,
			Mobile:  fmt.Sprintf("1%d%09d", 3+rn.IntN(7), rn.IntN(1_000_000_000)),
			Email:   fmt.Sprintf("user%d@mail%d.cn", i, rn.IntN(500)),
			Company: pick(benchCities) + pick(benchCores) + pick(benchTrades) + pick(benchForms),
			Title:   pick(benchTitles), Source: pick(benchSource),
			CreatedAt: created, UpdatedAt: created + rn.Int64N(now-created+1),
		}
		l.Fields = SyncedFields(rn, l)
		leads = append(leads, l)
		if len(leads) == batch || i == n-1 {
			if err := s.UpsertLeads(context.Background(), leads); err != nil {
				return err
			}
			leads = leads[:0]
		}
	}
	return nil
}

// reportMedian adds the median time of one iteration, in ms.
func reportMedian(b *testing.B, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}

// BenchmarkBoardQuery is the board's queries for one business type: the
// column counts and the first 20 cards of each of its six statuses.
func BenchmarkBoardQuery(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		counts, err := s.CountLeadsByStatus(ctx, LeadFilter{BusinessType: benchBT(1)})
		if err != nil || len(counts) != 6 {
			b.Fatal(counts, err)
		}
		for j := 1; j <= 6; j++ {
			cards, _, err := s.ListLeads(ctx, LeadFilter{BusinessType: benchBT(1), Status: benchStatus(1, j), Limit: 20})
			if err != nil || len(cards) != 20 {
				b.Fatal(len(cards), err)
			}
		}
		times = append(times, time.Since(start))
	}
	reportMedian(b, times)
}

// BenchmarkSearchChineseSubstring searches the whole copy for part of a
// company name, first page of 50: three characters are a trigram phrase,
// two the OR of the trigrams they begin.
func BenchmarkSearchChineseSubstring(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for _, c := range []struct{ name, q string }{{"3chars", "云栖科"}, {"3chars_across_parts", "州星河"}, {"2chars", "云栖"}} {
		q := c.q
		b.Run(c.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				ls, total, err := s.ListLeads(ctx, LeadFilter{Query: q, Limit: 50})
				if err != nil || len(ls) != 50 || total < 50 {
					b.Fatal(len(ls), total, err)
				}
				times = append(times, time.Since(start))
			}
			reportMedian(b, times)
		})
	}
}

// BenchmarkLeadsMatching is what one answer of live updates adds for an
// open board: which of 200 changed leads its filter selects, beside the
// column counts under the same filter that the answer already carries
// (counts-ms), at 100,000 leads.
func BenchmarkLeadsMatching(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	rn := rand.New(rand.NewPCG(9, 9))
	changed := make([]string, 200)
	for i := range changed {
		changed[i] = fmt.Sprintf("bench%08d", rn.IntN(benchLeads))
	}
	bt := benchBT(1)
	for _, c := range []struct {
		name string
		f    LeadFilter
	}{
		{"business_type", LeadFilter{BusinessType: bt}},
		{"owner", LeadFilter{BusinessType: bt, Owner: "18405"}},
		{"search_3chars", LeadFilter{BusinessType: bt, Query: "云栖科"}},
		{"search_2chars", LeadFilter{BusinessType: bt, Query: "云栖"}},
		{"search_1char", LeadFilter{BusinessType: bt, Query: "王"}},
		{"dates_and_pool", LeadFilter{BusinessType: bt, LeadPool: "pool1", CreatedFrom: 1_790_000_000, UpdatedTo: 1_799_000_000}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var times, countTimes []time.Duration
			for b.Loop() {
				start := time.Now()
				m, err := s.LeadsMatching(ctx, c.f, changed)
				if err != nil || len(m) > len(changed) {
					b.Fatal(len(m), err)
				}
				times = append(times, time.Since(start))
				start = time.Now()
				if _, err := s.CountLeadsByStatus(ctx, c.f); err != nil {
					b.Fatal(err)
				}
				countTimes = append(countTimes, time.Since(start))
			}
			reportMedian(b, times)
			slices.Sort(countTimes)
			b.ReportMetric(float64(countTimes[len(countTimes)/2].Microseconds())/1000, "counts-ms")
		})
	}
}
