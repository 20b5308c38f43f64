package db

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// What naming a crowd's members costs at 100,000 leads: the person behind
// a lead is in the lead's fields (no index), so each lookup reads the
// copy once. A page of 50 members (KnownPersons) and the count of a
// 600-member crowd (CrowdKnownMembers, also the email precheck).
func BenchmarkKnownPersonsPage(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	uuids := make([]string, 50)
	for i := range uuids {
		uuids[i] = fmt.Sprintf("person%06d", i)
	}
	var times []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := s.KnownPersons(ctx, uuids); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	reportMedian(b, times)
}

func BenchmarkCrowdKnownMembers(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	members := make([]CrowdMemberRow, 600)
	for i := range members {
		members[i] = CrowdMemberRow{UUID: fmt.Sprintf("person%06d", i)}
	}
	if err := s.ReplaceCrowdMembers(ctx, 77, members); err != nil {
		b.Fatal(err)
	}
	var times []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := s.CrowdKnownMembers(ctx, 77); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	reportMedian(b, times)
}
