package web

import (
	"testing"

	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/sends"
)

// sendsRig is a server with the crowds and sends services on the
// embedded sandbox (200 persons, the demo crowds and SMS messages).
type sendsRig struct {
	crowdsRig
	sends *sends.Service
}

// newSendsHarness is a server with the crowd list synced and the sends service.
func newSendsHarness(t testing.TB, edits ...func(*platform.Config)) (*harness, *sendsRig) {
	t.Helper()
	rig := &sendsRig{}
	h := newHarness(t, withCrowdsOn(t, &rig.crowdsRig, true, edits), func(d *Deps) {
		svc, err := sends.New(sends.Config{Store: d.Store, Platform: d.Platform, Runner: rig.runner, Logger: d.Logger, Now: d.Now})
		if err != nil {
			t.Fatal(err)
		}
		rig.sends, d.Sends = svc, svc
	})
	rig.h = h
	rig.sync()
	return h, rig
}
