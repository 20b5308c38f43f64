package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
)

// keyVerifyReport is the settings row that keeps the last verification.
const keyVerifyReport = "platform.verify_report"

// reportFreshFor is how long the last report is served from memory before
// the settings row is read again: pages (the administrators' banner, the
// features' warnings) read it on every view, and a report written by
// `jingdesk check` in another process shows within this time.
const reportFreshFor = 5 * time.Second

// reportCache is the last verification as read from the store.
type reportCache struct {
	mu     sync.Mutex
	raw    string // the row as read; the report is decoded again only when it changes
	report VerifyReport
	found  bool
	readAt time.Time
}

// PlanVerification says what VerifyAnswers would call on the live
// connection, and each endpoint's calls today against its daily quota.
func (m *Manager) PlanVerification(ctx context.Context) VerifyPlan {
	client, name := m.Current()
	p := m.verifier(client, name).plan(ctx)
	p.Connection, p.BaseURL, p.Day = name, client.BaseURL(), m.Today()
	return p
}

// verifier verifies client, the connection called name.
func (m *Manager) verifier(client *jing.Client, name string) *verifier {
	return &verifier{client: client, smsTask: func(ctx context.Context) (string, error) {
		return m.cfg.Store.LatestSMSTask(ctx, name)
	}}
}

// VerifyAnswers calls every read-only endpoint of the live connection once
// and judges each answer with the decoders the features use (see
// verify.go), keeps the report as the last verification and returns it.
// Verifications run one at a time.
func (m *Manager) VerifyAnswers(ctx context.Context) (VerifyReport, error) {
	m.verifyMu.Lock()
	defer m.verifyMu.Unlock()
	client, name := m.Current()
	rep := m.verifier(client, name).run(ctx)
	rep.At, rep.Connection = m.cfg.Now(), name
	raw, err := json.Marshal(rep)
	if err != nil {
		return rep, fmt.Errorf("platform: encode the verification: %w", err)
	}
	// The report is kept even when the request that asked for it is gone.
	if err := m.cfg.Store.SetSetting(context.WithoutCancel(ctx), keyVerifyReport, string(raw)); err != nil {
		return rep, err
	}
	m.reports.mu.Lock()
	m.reports.raw, m.reports.report, m.reports.found, m.reports.readAt = string(raw), rep, true, time.Now()
	m.reports.mu.Unlock()
	m.log.Info("platform answers verified", "connection", name, "summary", rep.Summary())
	return rep, nil
}

// LastVerification is the last report kept, whatever connection it was
// made against (found is false when there is none).
func (m *Manager) LastVerification(ctx context.Context) (rep VerifyReport, found bool) {
	c := &m.reports
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.readAt.IsZero() && time.Since(c.readAt) < reportFreshFor {
		return c.report, c.found
	}
	raw, err := m.cfg.Store.Setting(ctx, keyVerifyReport)
	switch {
	case errors.Is(err, db.ErrNotFound):
		c.raw, c.report, c.found = "", VerifyReport{}, false
	case err != nil:
		m.log.Warn("read the last verification of answers", "error", err)
		return c.report, c.found // the one in memory, tried again next time
	case raw != c.raw:
		var r VerifyReport
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			m.log.Warn("the stored verification of answers does not decode; it is ignored", "error", err)
			r, c.found = VerifyReport{}, false
		} else {
			c.found = true
		}
		c.raw, c.report = raw, r
	}
	c.readAt = time.Now()
	return c.report, c.found
}

// VerificationFailures are the results of the last verification of the
// live connection that fail feature f (every feature when f is ""). A
// report of another connection says nothing about this one: none.
func (m *Manager) VerificationFailures(ctx context.Context, f Feature) (VerifyReport, []VerifyResult) {
	rep, found := m.LastVerification(ctx)
	if !found || rep.Connection != m.Connection() {
		return VerifyReport{}, nil
	}
	return rep, rep.FailedFor(f)
}
