package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/secret"
	"github.com/jingdesk/jingdesk/internal/testkit/fixture"
)

func newService(t *testing.T) (*Service, *db.Store) {
	t.Helper()
	store := fixture.Store(t)
	key := make([]byte, 32)
	rand.Read(key)
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Config{Store: store, Box: box})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

func receive(t *testing.T, svc *Service, body []byte) {
	t.Helper()
	if _, err := svc.Receive(context.Background(), body); err != nil {
		t.Fatalf("receive: %v\n%s", err, body)
	}
}

func applyAll(t *testing.T, svc *Service) {
	t.Helper()
	if _, err := svc.ApplyPending(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The documentation's account example, posted verbatim, is an account of
// the local copy with its fields (mapping_data as a JSON string).
func TestTheDocumentedAccountEventLandsAsAnAccount(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	body, err := os.ReadFile("../jing/testdata/webhook_account_object_create.json")
	if err != nil {
		t.Fatal(err)
	}
	receive(t, svc, body)
	receive(t, svc, body) // again: stored once
	applyAll(t, svc)
	a, err := store.Account(context.Background(), "nssGJLofjZ55N5KgdKfEYS")
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	json.Unmarshal(a.Fields, &fields)
	if a.Name != "webhook测试第六个客户sdfadfas" || a.BusinessType != "SLmviLvtezwNT94uQUT9df" || fields["mobile"] != "16505595886" ||
		fields["company_id"] != "上海径硕" || a.CreatedAt != 1673262057 {
		t.Fatalf("account: %+v %v", a, fields)
	}
	if ms, ok := fields["c_select_g8l2rowh"].([]any); !ok || len(ms) != 2 || ms[0] != "jgZtc37SjZVJbh8x9cmi8" {
		t.Fatalf("a multi-select's comma-joined ids: %#v", fields["c_select_g8l2rowh"])
	}
	counts, _ := store.WebhookCounts(context.Background())
	if counts[db.EventApplied] != 1 || len(counts) != 1 {
		t.Fatalf("events: %v", counts)
	}
	evs, _ := store.ListWebhookEvents(context.Background(), db.WebhookFilter{})
	if evs[0].Duplicates != 1 {
		t.Fatalf("duplicates: %d", evs[0].Duplicates)
	}
}

// A lead's object_create (mapping_data as an object, as some tenants get
// it) makes the lead; an update after it changes what it names.
func TestALeadCreateAndUpdateLandInTheCopy(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	g := newGen(1)
	receive(t, svc, g.create("lead-1", 100))
	upd := g.event("lead-1", jing.EventObjectUpdateStatus, 101, map[string]any{"lead_status": []any{"st1", "st2"}})
	receive(t, svc, upd)
	applyAll(t, svc)
	l, err := store.Lead(context.Background(), "lead-1")
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "客户lead-1" || l.Status != "st2" || l.Owner != "m1" || l.Mobile != "13800000000" {
		t.Fatalf("lead: %+v", l)
	}
	hist, _ := store.LeadStatusHistory(context.Background(), "lead-1")
	if len(hist) == 0 || hist[len(hist)-1].Origin != db.OriginWebhook || hist[len(hist)-1].To != "st2" {
		t.Fatalf("history: %+v", hist)
	}
}

// Unknown and unreadable events are kept with the reason, change nothing,
// and can be queued again.
func TestUnknownAndUnreadableEventsAreKept(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	if _, err := svc.Receive(context.Background(), []byte(`{not json`)); err == nil {
		t.Fatal("a malformed body was accepted")
	}
	receive(t, svc, []byte(`{"event_type":"object_teleport","create_time":5,"extra_data":{"object_name":"lead","entity_id":"x"}}`))
	applyAll(t, svc)
	counts, _ := store.WebhookCounts(context.Background())
	if counts[db.EventFailed] != 1 || counts[db.EventUnknown] != 1 {
		t.Fatalf("events: %v", counts)
	}
	if n, _ := store.RequeueWebhookEvents(context.Background(), nil); n != 2 {
		t.Fatalf("requeued %d", n)
	}
}

// 1,000 events over 20 leads, delivered shuffled with a fifth of them
// twice, give exactly the state in-order delivery gives.
func TestShuffledAndRepeatedEventsGiveTheInOrderState(t *testing.T) {
	t.Parallel()
	events := newGen(7).history(20, 1000)
	inOrder, store1 := newService(t)
	for _, e := range events {
		receive(t, inOrder, e)
		applyAll(t, inOrder)
	}
	shuffled, store2 := newService(t)
	rng := mrand.New(mrand.NewPCG(3, 4))
	deliveries := append([][]byte(nil), events...)
	for _, i := range rng.Perm(len(events))[:200] {
		deliveries = append(deliveries, events[i])
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	for i, e := range deliveries {
		receive(t, shuffled, e)
		if i%37 == 0 {
			applyAll(t, shuffled) // applied as they come, in batches
		}
	}
	applyAll(t, shuffled)
	want, got := dump(t, store1), dump(t, store2)
	if len(want) != 20 {
		t.Fatalf("in order: %d leads", len(want))
	}
	if !reflect.DeepEqual(want, got) {
		for uuid := range want {
			if !reflect.DeepEqual(want[uuid], got[uuid]) {
				t.Fatalf("%s differs:\nin order %v\nshuffled %v", uuid, want[uuid], got[uuid])
			}
		}
		t.Fatal("the copies differ")
	}
}

// dump is the copy's leads: every column a webhook writes, fields parsed.
func dump(t *testing.T, store *db.Store) map[string][]any {
	t.Helper()
	out := map[string][]any{}
	leads, _, err := store.ListLeads(context.Background(), db.LeadFilter{IncludeVoided: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leads {
		var fields map[string]any
		json.Unmarshal(l.Fields, &fields)
		out[l.UUID] = []any{l.BusinessType, l.Status, l.LifeStatus, l.LeadPool, l.Owner, fmt.Sprint(l.Collaborators), l.Name,
			l.Mobile, l.Email, l.Company, l.Title, l.Source, l.Voided, fields}
	}
	return out
}

// gen writes lead events the way the platform does.
type gen struct {
	rng    *mrand.Rand
	leads  map[string]*genLead
	serial int
}

type genLead struct {
	status, owner, pool string
	collab              []string
	voided              bool
}

func newGen(seed uint64) *gen {
	return &gen{rng: mrand.New(mrand.NewPCG(seed, seed)), leads: map[string]*genLead{}}
}

// event is one lead event with mapping data (as an object or, at random,
// as a JSON string: both are accepted).
func (g *gen) event(uuid, typ string, at int64, mapping map[string]any) []byte {
	g.serial++
	text := map[string]any{}
	for k, v := range mapping {
		text[k] = v
	}
	x := map[string]any{"object_name": "lead", "entity_id": uuid, "object_id": fmt.Sprint(g.serial), "business_type": "bt1",
		"business_type_name": "新车销售", "operator_type": 1, "operator_id": 18404, "notes": "", "is_follow_up": 0,
		"created_timestamp": "2026-11-01 10:00:00", "mapping_data": mapping, "mapping_data_text": text}
	if g.rng.IntN(2) == 0 {
		m, _ := json.Marshal(mapping)
		x["mapping_data"] = string(m)
	}
	if l := g.leads[uuid]; l != nil {
		x["owner"] = l.owner
	}
	if typ == jing.EventObjectAddNotes {
		x["notes"] = fmt.Sprintf("第%d次跟进", g.serial)
	}
	b, _ := json.Marshal(map[string]any{"mid": "124", "event_category": "object_v2", "event_type": typ, "action_keyword": typ,
		"create_time": at, "extra_data": x})
	return b
}

func (g *gen) create(uuid string, at int64) []byte {
	g.leads[uuid] = &genLead{status: "st1", owner: "m1"}
	return g.event(uuid, jing.EventObjectCreate, at, map[string]any{"name": []any{"客户" + uuid}, "mobile": []any{"13800000000"},
		"lead_status": []any{"st1"}, "owner": []any{"m1"}, "life_status": []any{"baby_lead"}, "company_id": []any{"径硕"}})
}

// history is n events over k leads in time order (a few in the same second).
func (g *gen) history(k, n int) [][]byte {
	var out [][]byte
	at := int64(1_790_000_000)
	for i := range k {
		out = append(out, g.create(fmt.Sprintf("L%02d", i), at))
		at++
	}
	members := []string{"m1", "m2", "m3", "m4", "m5"}
	for len(out) < n {
		uuid := fmt.Sprintf("L%02d", g.rng.IntN(k))
		l := g.leads[uuid]
		at += int64(g.rng.IntN(2)) // same second now and then
		switch g.rng.IntN(8) {
		case 0:
			next := fmt.Sprintf("st%d", 1+g.rng.IntN(6))
			out = append(out, g.event(uuid, jing.EventObjectUpdateStatus, at, map[string]any{"lead_status": []any{l.status, next}}))
			l.status = next
		case 1:
			next := members[g.rng.IntN(len(members))]
			out = append(out, g.event(uuid, jing.EventObjectChangeOwner, at, map[string]any{"owner": []any{l.owner, next}}))
			l.owner = next
		case 2:
			m := members[g.rng.IntN(len(members))]
			if !contains(l.collab, m) {
				out = append(out, g.event(uuid, jing.EventObjectAddTeamMember, at,
					map[string]any{"collaborators": []any{strings.Join(l.collab, ","), m}}))
				l.collab = append(l.collab, m)
			}
		case 3:
			if len(l.collab) > 0 {
				m := l.collab[g.rng.IntN(len(l.collab))]
				rest := minus(l.collab, []string{m})
				out = append(out, g.event(uuid, jing.EventObjectRemoveTeamMember, at,
					map[string]any{"collaborators": []any{m, strings.Join(rest, ",")}}))
				l.collab = rest
			}
		case 4:
			typ := jing.EventObjectVoids
			if l.voided {
				typ = jing.EventObjectRestore
			}
			out = append(out, g.event(uuid, typ, at, map[string]any{}))
			l.voided = !l.voided
		case 5:
			out = append(out, g.event(uuid, jing.EventObjectAddNotes, at, map[string]any{}))
		case 6:
			out = append(out, g.event(uuid, jing.EventObjectUpdate, at, map[string]any{
				"title": []any{nil, fmt.Sprintf("职位%d", g.rng.IntN(9))}, "c_select_abc": []any{nil, "o1,o2"}}))
		default:
			pool := []string{"", "pool1", "pool2"}[g.rng.IntN(3)]
			out = append(out, g.event(uuid, jing.EventObjectChangeLeadPool, at, map[string]any{"lead_pool": []any{l.pool, pool}}))
			l.pool = pool
		}
	}
	return out
}

func contains(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// Stored events were never deleted (audit finding 6). Finished events are
// kept for their state's retention after they arrived; pending ones
// always; 0 keeps forever.
func TestEventsPastTheirRetentionArePruned(t *testing.T) {
	t.Parallel()
	svc, store := newService(t)
	ctx := context.Background()
	now := time.Unix(1_790_000_000, 0)
	store.SetClock(func() time.Time { return now })
	svc.cfg.Now = func() time.Time { return now }
	add := func(key, state string, daysAgo int) {
		store.SetClock(func() time.Time { return now.AddDate(0, 0, -daysAgo) })
		if _, _, err := store.StoreWebhookEvent(ctx, db.NewWebhookEvent{DedupKey: key, Body: "{}", State: state}); err != nil {
			t.Fatal(err)
		}
		store.SetClock(func() time.Time { return now })
	}
	for _, st := range []string{db.EventApplied, db.EventSkipped, db.EventFailed, db.EventUnknown, db.EventPending} {
		add(st+"-old", st, 40)
		add(st+"-mid", st, 20)
		add(st+"-new", st, 0)
	}
	if r, _ := svc.Retention(ctx); r != DefaultRetention || r.AppliedDays != 30 {
		t.Fatalf("default retention %+v", r)
	}
	if err := svc.SaveRetention(ctx, Retention{AppliedDays: 30, FailedDays: 3651}); err != ErrRetention {
		t.Fatalf("11 years accepted: %v", err)
	}
	if err := svc.SaveRetention(ctx, Retention{AppliedDays: 10, FailedDays: 30}); err != nil {
		t.Fatal(err)
	}
	n, err := svc.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts, _ := store.WebhookCounts(ctx)
	want := map[string]int64{db.EventApplied: 1, db.EventSkipped: 1, db.EventFailed: 2, db.EventUnknown: 2, db.EventPending: 3}
	if n != 6 || !reflect.DeepEqual(counts, want) {
		t.Fatalf("pruned %d, left %v, want %v", n, counts, want)
	}
	if err := svc.SaveRetention(ctx, Retention{AppliedDays: 0, FailedDays: 1}); err != nil {
		t.Fatal(err)
	}
	svc.Prune(ctx)
	counts, _ = store.WebhookCounts(ctx)
	if counts[db.EventApplied] != 1 || counts[db.EventFailed] != 1 || counts[db.EventUnknown] != 1 || counts[db.EventPending] != 3 {
		t.Fatalf("0 did not keep applied events, or failed ones were kept: %v", counts)
	}
}
