package sandbox

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

func seededSends(seed int64) sendState {
	t := &tenant{}
	t.seedSends(rngFor(seed, "sends"))
	return t.Sends
}

func TestSeedSendsIsDeterministicFastAndRealistic(t *testing.T) {
	t.Parallel()
	a := seededSends(1)
	b, other := seededSends(1), seededSends(2)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	jo, _ := json.Marshal(other)
	if string(ja) != string(jb) {
		t.Fatal("the same seed gave two different send histories")
	}
	if string(ja) == string(jo) || a.Salt == other.Salt {
		t.Fatal("two seeds gave the same send history")
	}
	if len(ja) > 64<<10 {
		t.Fatalf("send history is %d bytes of JSON: per-recipient data must stay lazy", len(ja))
	}
	statuses := map[string]int{}
	for _, m := range a.SMSMessages {
		statuses[m.Status]++
	}
	if statuses["approved"] < 5 || statuses["pending"] != 1 || statuses["rejected"] != 1 {
		t.Fatalf("SMS approval statuses %v", statuses)
	}
	verified := 0
	for _, m := range a.Mailboxes {
		if m.Verified {
			verified++
		}
	}
	if verified != 3 || len(a.Mailboxes) != 4 || len(a.SMSTasks) < 8 || len(a.EDMSends) < 8 {
		t.Fatalf("%d mailboxes (%d verified), %d SMS tasks, %d EDM sends", len(a.Mailboxes), verified, len(a.SMSTasks), len(a.EDMSends))
	}
}

// smsStates is how many recipients of an SMS task are in each state, elapsed after its start.
func smsStates(st *sendState, task *smsTask, elapsed time.Duration) smsSendDetail {
	return st.smsProgress(task, task.StartMS+elapsed.Milliseconds())
}

func TestSMSDeliveriesProgressToAFinalState(t *testing.T) {
	t.Parallel()
	st := seededSends(3)
	task := &smsTask{TaskID: "TASK", Total: 2000, StartMS: sendsEpoch.UnixMilli()}
	var prev smsSendDetail
	for _, step := range []struct {
		at                    time.Duration
		minSent, minDelivered float64
		maxSent, maxDelivered float64
		wantStatus            string
	}{
		{-time.Second, 0, 0, 0, 0, "scheduled"},
		{900 * time.Millisecond, 0, 0, 0, 0, "sending"},
		{2 * time.Second, 0.3, 0, 0.7, 0.2, "sending"},
		{5500 * time.Millisecond, 1, 0.9, 1, 0.97, "sending"},
		{time.Minute, 1, 0.95, 1, 0.99, "sent"},
	} {
		d := smsStates(&st, task, step.at)
		sent, delivered := float64(d.Sent)/2000, float64(d.Delivered)/2000
		if sent < step.minSent || sent > step.maxSent || delivered < step.minDelivered || delivered > step.maxDelivered || d.Status != step.wantStatus {
			t.Fatalf("at %v: %s, sent %.3f, delivered %.3f", step.at, d.Status, sent, delivered)
		}
		if d.Sent < prev.Sent || d.Delivered < prev.Delivered || d.Failed < prev.Failed {
			t.Fatalf("at %v progress went backwards: %+v after %+v", step.at, d, prev)
		}
		prev = d
	}
	if prev.Sent != 2000 || prev.Delivered+prev.Failed != 2000 || prev.Failed < 30 || prev.Failed > 100 {
		t.Fatalf("final: sent %d, delivered %d, failed %d of 2000", prev.Sent, prev.Delivered, prev.Failed)
	}
	for _, r := range prev.Items {
		if (r.Status == "failed") != slices.Contains(smsFailures, r.Error) || r.Time == 0 || !isMobile(r.Mobile) {
			t.Fatalf("recipient %+v", r)
		}
	}
	if again := smsStates(&st, task, time.Minute); !reflect.DeepEqual(again, prev) {
		t.Fatal("the same task at the same moment gave different outcomes")
	}
}

func TestEDMOutcomesHaveRealisticRates(t *testing.T) {
	t.Parallel()
	st := seededSends(4)
	send := &edmSend{EDMID: "EDM", Total: 5000, StartMS: sendsEpoch.UnixMilli()}
	if f := st.edmFigures(send, send.StartMS+200); f.Delivered+f.Bounced+f.Failed != 0 {
		t.Fatalf("outcomes 200 ms after the start: %+v", f)
	}
	if v := st.edmView(send, send.StartMS+3000); v.Status != "sending" || v.Delivered == 0 || v.Delivered > 4500 {
		t.Fatalf("3 s after the start: %+v", v)
	}
	v := st.edmView(send, send.StartMS+edmSettleMS)
	share := func(n, of int) float64 { return float64(n) / float64(of) }
	switch {
	case v.Status != "sent" || v.Delivered+v.Bounced+v.Failed != 5000:
		t.Fatalf("settled: %+v", v)
	case share(v.Delivered, 5000) < 0.94 || share(v.Bounced, 5000) > 0.03 || share(v.Failed, 5000) > 0.03:
		t.Fatalf("delivery rates: %+v", v)
	case share(v.Opened, v.Delivered) < 0.2 || share(v.Opened, v.Delivered) > 0.32:
		t.Fatalf("open rate %.3f", share(v.Opened, v.Delivered))
	case share(v.Clicked, v.Delivered) < 0.03 || share(v.Clicked, v.Delivered) > 0.08 || v.Clicked > v.Opened:
		t.Fatalf("click rate %.3f", share(v.Clicked, v.Delivered))
	}
	emails := st.edmEmails(send)
	if len(emails) != 5000 || len(distinctStrings(emails)) != 5000 || !isEmail(emails[0]) {
		t.Fatalf("%d seeded emails, %d distinct, first %q", len(emails), len(distinctStrings(emails)), emails[0])
	}
}

func TestSeededEDMHistoryHasEveryKindOfSend(t *testing.T) {
	t.Parallel()
	st := seededSends(1)
	now := sendsEpoch.UnixMilli()
	seen := map[string]int{}
	for _, e := range st.EDMSends {
		v := st.edmView(e, now)
		seen[v.Status]++
		if v.Status == "sent" && (v.Total < 800 || v.Delivered == 0 || v.Opened == 0) {
			t.Fatalf("seeded send %+v", v)
		}
	}
	if seen["sent"] < 6 || seen["failed"] != 1 || seen["draft"] != 1 {
		t.Fatalf("seeded statuses %v", seen)
	}
}

func TestScoresAreStableRealisticAndClearable(t *testing.T) {
	t.Parallel()
	st := seededSends(5)
	grades, levels := map[string]int{}, map[string]int{}
	const n = 20000
	for i := range n {
		id := fmt.Sprintf("person-%d", i)
		grades[identityScore(&st, scoredUsers, id, peopleSeedEnd)[0].Grade]++
		levels[activityScore(&st, scoredUsers, id, peopleSeedEnd)[0].Level]++
	}
	if grades["B"]+grades["C"] < n*6/10 || grades["A"] > n/5 || grades["D"] == 0 {
		t.Fatalf("identity grades %v: want most B or C", grades)
	}
	if levels["cold"] < levels["warm"] || levels["cold"] < levels["inactive"] || levels["hot"] > n/10 || levels["hot"] == 0 {
		t.Fatalf("activity levels %v: want most cold, a few hot", levels)
	}
	intent := intentionScores(&st, scoredLeads, "lead-1", peopleSeedEnd)
	if len(intent) != len(intentProducts) || intent[1].Model != intentProducts[1] || intent[0].Level == "" {
		t.Fatalf("intention items %+v", intent)
	}
	other := seededSends(6)
	same, differs := identityScore(&st, scoredUsers, "x", peopleSeedEnd), 0
	for i := range 100 {
		id := fmt.Sprintf("person-%d", i)
		if !reflect.DeepEqual(identityScore(&st, scoredUsers, id, peopleSeedEnd), identityScore(&other, scoredUsers, id, peopleSeedEnd)) {
			differs++
		}
	}
	if !reflect.DeepEqual(same, identityScore(&st, scoredUsers, "x", peopleSeedEnd)) || differs < 50 {
		t.Fatalf("scores must be stable for a seed and differ between seeds (%d of 100 differ)", differs)
	}

	id := "person-1"
	for i := 0; activityScore(&st, scoredUsers, id, peopleSeedEnd)[0].Score == 0; i++ {
		id = fmt.Sprintf("person-%d", i) // find someone with points to clear
	}
	st.ActivityCleared = map[string]int64{id: 1}
	if a := activityScore(&st, scoredUsers, id, peopleSeedEnd)[0]; a.Score != 0 || a.Level != "inactive" {
		t.Fatalf("after clearing: %+v", a)
	}
	if a := activityScore(&st, scoredLeads, id, peopleSeedEnd)[0]; a.Score == 0 {
		t.Fatal("clearing a person's activity changed a lead's")
	}
}

func TestSendStateWorksAfterAJSONRoundTrip(t *testing.T) {
	t.Parallel()
	st := seededSends(7)
	st.ActivityCleared = map[string]int64{"p": 5}
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back sendState
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	now := sendsEpoch.UnixMilli()
	for i, e := range st.EDMSends {
		if !reflect.DeepEqual(st.edmView(e, now), back.edmView(back.EDMSends[i], now)) {
			t.Fatalf("send %d reads differently after a reload", i)
		}
	}
	task := st.SMSTasks[0]
	if !reflect.DeepEqual(st.smsProgress(task, now), back.smsProgress(back.SMSTasks[0], now)) {
		t.Fatal("an SMS task reads differently after a reload")
	}
	if back.Salt != st.Salt || back.ActivityCleared["p"] != 5 {
		t.Fatal("salt or cleared activity lost")
	}
}

func BenchmarkSMSSendDetail5000(b *testing.B) {
	st := seededSends(1)
	task := &smsTask{TaskID: "T", Total: 5000, StartMS: 1}
	for b.Loop() {
		st.smsProgress(task, 10_000)
	}
}

// Activity points move with the days, the same way for the same day, so a
// console fetching again later sees movers; the level follows the points.
func TestActivityScoresDriftDayByDay(t *testing.T) {
	t.Parallel()
	st := sendState{Salt: 9}
	moved := 0
	for i := range 200 {
		id := fmt.Sprintf("p-%d", i)
		day0 := activityScore(&st, scoredUsers, id, peopleSeedEnd)[0]
		later := activityScore(&st, scoredUsers, id, peopleSeedEnd+30*86400)[0]
		if day0 != activityScore(&st, scoredUsers, id, peopleSeedEnd+3600)[0] {
			t.Fatalf("%s changed within a day", id)
		}
		if later.Score != day0.Score {
			moved++
		}
		if later.Score < 0 || later.Level != bandOf(activityBands, later.Score) {
			t.Fatalf("%s: %+v", id, later)
		}
	}
	if moved < 100 {
		t.Fatalf("only %d of 200 moved in 30 days", moved)
	}
}

// SendSpeed shortens a send's course, not its outcomes: at 10 an SMS task
// and an email send are final a tenth of the way through the platform's
// time, each recipient ending as at normal speed.
func TestSendSpeedShortensTheCourseOnly(t *testing.T) {
	t.Parallel()
	normal, fast := seededSends(5), seededSends(5)
	fast.speed = 10
	task := &smsTask{TaskID: "TASK", Total: 500, StartMS: sendsEpoch.UnixMilli()}
	if d := smsStates(&normal, task, 3*time.Second); d.Status != "sending" {
		t.Fatalf("at normal speed, 3 s in: %s", d.Status)
	}
	slow, quick := smsStates(&normal, task, time.Minute), smsStates(&fast, task, 3*time.Second)
	if quick.Status != "sent" || quick.Delivered != slow.Delivered || quick.Failed != slow.Failed {
		t.Fatalf("at 10×, 3 s in: %s, %d delivered, %d failed; at normal speed after a minute %d and %d",
			quick.Status, quick.Delivered, quick.Failed, slow.Delivered, slow.Failed)
	}
	// Two sends alike: a send remembers its figures once they are final.
	send, same := &edmSend{EDMID: "EDM", Total: 500, StartMS: sendsEpoch.UnixMilli()}, &edmSend{EDMID: "EDM", Total: 500, StartMS: sendsEpoch.UnixMilli()}
	if w := fast.edmView(same, same.StartMS+edmSettleMS/40); w.Status != "sending" {
		t.Fatalf("email at 10×, 300 ms in: %s", w.Status)
	}
	if v, w := normal.edmView(send, send.StartMS+edmSettleMS), fast.edmView(same, same.StartMS+edmSettleMS/10); w.Status != "sent" || w.edmStats != v.edmStats {
		t.Fatalf("email at 10×: %+v; at normal speed %+v", w, v)
	}
}
