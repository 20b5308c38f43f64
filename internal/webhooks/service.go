// Package webhooks receives the platform's events and applies them to the
// local copies: every event is stored first (deduplicated by a stable
// key) so the receiver answers at once, then applied by one worker in
// event-time order. Field versions in the store make the result the same
// whatever order and however often events arrive.
package webhooks

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/secret"
)

// MaxBody is the largest event body accepted.
const MaxBody = 1 << 20

// Config builds a Service.
type Config struct {
	Store  *db.Store
	Box    *secret.Box // seals the URL's secret at rest
	Logger *slog.Logger
	Now    func() time.Time
}

// Service receives and applies webhook events.
type Service struct {
	cfg      Config
	log      *slog.Logger
	wake     chan struct{}
	rejected atomic.Int64 // requests with a wrong secret since start

	mu       sync.Mutex
	secret   string
	onRotate func(secret string)
	stop     context.CancelFunc
	done     chan struct{}
}

// New builds the service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Box == nil {
		return nil, errors.New("webhooks: store and secret box are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, log: cfg.Logger.With("component", "webhooks"), wake: make(chan struct{}, 1)}, nil
}

// --- the URL's secret ---

const secretKey = "webhooks.secret"

// Secret is the path secret of the receiving URL, made on first use and
// kept sealed in the settings.
func (s *Service) Secret(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secret != "" {
		return s.secret, nil
	}
	sealed, err := s.cfg.Store.Setting(ctx, secretKey)
	if errors.Is(err, db.ErrNotFound) {
		return s.rotateLocked(ctx)
	}
	if err != nil {
		return "", err
	}
	plain, err := s.cfg.Box.Open(sealed)
	if err != nil {
		return "", fmt.Errorf("webhooks: the stored secret cannot be read: %w", err)
	}
	s.secret = plain
	return s.secret, nil
}

// Rotate replaces the secret: the old URL stops working at once.
func (s *Service) Rotate(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotateLocked(ctx)
}

func (s *Service) rotateLocked(ctx context.Context) (string, error) {
	fresh := secret.Token(24)
	sealed, err := s.cfg.Box.Seal(fresh)
	if err != nil {
		return "", err
	}
	if err := s.cfg.Store.SetSetting(ctx, secretKey, sealed); err != nil {
		return "", err
	}
	s.secret = fresh
	if s.onRotate != nil {
		s.onRotate(fresh)
	}
	return fresh, nil
}

// OnRotate makes fn hear of every new secret (the embedded sandbox's
// delivery URL follows it).
func (s *Service) OnRotate(fn func(secret string)) {
	s.mu.Lock()
	s.onRotate = fn
	s.mu.Unlock()
}

// Accepts reports whether a request's path secret is the current one (in
// constant time); a wrong one is counted.
func (s *Service) Accepts(ctx context.Context, got string) bool {
	want, err := s.Secret(ctx)
	if err == nil && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
		return true
	}
	s.rejected.Add(1)
	return false
}

// Rejected counts requests with a wrong secret since the console started.
func (s *Service) Rejected() int64 { return s.rejected.Load() }

// --- receiving ---

// Receive stores one event body and wakes the worker. A body that is not
// a webhook event is stored as failed (for inspection) and reported with
// ErrUnreadable; nothing is applied from it. A repeated event is stored
// once and counted.
func (s *Service) Receive(ctx context.Context, body []byte) (fresh bool, err error) {
	ev, derr := jing.DecodeWebhook(body)
	row := db.NewWebhookEvent{Body: string(body), State: db.EventPending}
	if derr != nil {
		sum := sha256.Sum256(body)
		row.DedupKey, row.State, row.Reason = "unreadable:"+hex.EncodeToString(sum[:16]), db.EventFailed, derr.Error()
	} else {
		row.DedupKey, row.EventType, row.ObjectName = ev.DedupKey(), ev.EventType, ev.ExtraData.ObjectName
		row.EntityID, row.EventTime = ev.ExtraData.EntityID, ev.CreateTime
	}
	_, fresh, err = s.cfg.Store.StoreWebhookEvent(ctx, row)
	if err != nil {
		return false, err
	}
	if derr != nil {
		return fresh, fmt.Errorf("%w: %v", ErrUnreadable, derr)
	}
	s.Kick()
	return fresh, nil
}

// ErrUnreadable is a body that is not a webhook event.
var ErrUnreadable = errors.New("webhooks: not a webhook event")

// Kick wakes the worker.
func (s *Service) Kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// --- applying ---

// Start runs the worker until Stop: it applies pending events whenever
// woken, and every few seconds in case a wake-up was missed; every ten
// minutes it trims the lead change log to its newest 50,000 entries, and
// every hour it deletes the events past their retention (Retention).
func (s *Service) Start(ctx context.Context) {
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.stop, s.done = stop, make(chan struct{})
	s.mu.Unlock()
	go func() {
		defer close(s.done)
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		pruned := time.Now()
		var prunedEvents time.Time
		for {
			if _, err := s.ApplyPending(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("apply webhook events", "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-tick.C:
			}
			// The change log only needs trimming now and then.
			if time.Since(pruned) > 10*time.Minute {
				s.cfg.Store.PruneLeadChanges(ctx, 50_000)
				pruned = time.Now()
			}
			// Stored events past their retention: soon after start, then hourly.
			if time.Since(prunedEvents) > pruneEvery {
				if _, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("delete webhook events past their retention", "error", err)
				}
				prunedEvents = time.Now()
			}
		}
	}()
}

// Stop ends the worker.
func (s *Service) Stop() {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// ApplyPending applies every pending event, oldest event first, and says
// how many it applied.
func (s *Service) ApplyPending(ctx context.Context) (int, error) {
	n := 0
	for {
		rows, err := s.cfg.Store.PendingWebhookEvents(ctx, 200)
		if err != nil || len(rows) == 0 {
			return n, err
		}
		for _, row := range rows {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			if err := s.apply(ctx, row); err != nil {
				return n, err
			}
			n++
		}
	}
}

// apply applies one stored event and records how it ended.
func (s *Service) apply(ctx context.Context, row db.WebhookEventRow) error {
	ev, err := jing.DecodeWebhook([]byte(row.Body))
	if err != nil {
		return s.cfg.Store.FinishWebhookEvent(ctx, row.ID, db.EventFailed, err.Error())
	}
	oe, state, reason := objectEvent(ev)
	if state != "" {
		return s.cfg.Store.FinishWebhookEvent(ctx, row.ID, state, reason)
	}
	oe.EventID, oe.Tie = row.ID, row.DedupKey
	_, err = s.cfg.Store.ApplyObjectEvent(ctx, oe)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("apply a webhook event", "event", row.ID, "error", err)
		return s.cfg.Store.FinishWebhookEvent(ctx, row.ID, db.EventFailed, err.Error())
	}
	return err
}

// knownEvents are the object events the console applies.
var knownEvents = []string{jing.EventObjectCreate, jing.EventObjectUpdate, jing.EventObjectUpdateStatus,
	jing.EventObjectUpdateLifeCycle, jing.EventObjectVoids, jing.EventObjectRestore, jing.EventObjectChangeOwner,
	jing.EventObjectAddNotes, jing.EventObjectAddTeamMember, jing.EventObjectRemoveTeamMember, jing.EventObjectChangeLeadPool,
	jing.EventObjectRelation, jing.EventObjectSourceInfo}

// objectEvent reads what an event changes; state is set when there is
// nothing to apply (skipped, unknown or failed, with the reason).
func objectEvent(ev jing.WebhookEvent) (oe db.ObjectEvent, state, reason string) {
	x := ev.ExtraData
	switch {
	case ev.EventType == jing.EventAddOmniUserSuccess:
		return oe, db.EventSkipped, "person events are not kept by the console"
	case !slices.Contains(knownEvents, ev.EventType):
		return oe, db.EventUnknown, "unknown event type " + ev.EventType
	case x.ObjectName != jing.ObjectLead && x.ObjectName != jing.ObjectAccount:
		return oe, db.EventUnknown, "unknown object " + x.ObjectName
	case x.EntityID == "":
		return oe, db.EventFailed, "the event names no object (entity_id)"
	}
	oe = db.ObjectEvent{Object: x.ObjectName, UUID: x.EntityID, At: ev.CreateTime, BusinessType: x.BusinessType,
		Create: ev.EventType == jing.EventObjectCreate, Set: map[string]any{},
		Void: ev.EventType == jing.EventObjectVoids, Restore: ev.EventType == jing.EventObjectRestore}
	for field, c := range x.Changes() {
		if field == "collaborators" {
			continue
		}
		oe.Set[field] = multiSelect(field, c.After)
	}
	switch ev.EventType {
	case jing.EventObjectChangeOwner:
		oe.Owner = x.Owner // some tenants send it without the fields
	case jing.EventObjectUpdateLifeCycle:
		if _, ok := oe.Set["life_status"]; !ok && x.LifeStatus != "" {
			oe.Set["life_status"] = x.LifeStatus
		}
	case jing.EventObjectAddNotes:
		oe.Note = x.Notes
	case jing.EventObjectAddTeamMember, jing.EventObjectRemoveTeamMember:
		before, after := collaboratorLists(x)
		if ev.EventType == jing.EventObjectAddTeamMember {
			oe.AddCollaborators = minus(after, before)
		} else {
			oe.RemoveCollaborators = minus(before, after)
		}
	}
	return oe, "", ""
}

// multiSelect turns a select field's comma-joined option ids (how the
// platform writes a multi-select in mapping_data) into a list.
func multiSelect(field string, v any) any {
	str, ok := v.(string)
	if !ok || !strings.HasPrefix(field, "c_select") && !strings.HasPrefix(field, "c_checkbox") || !strings.Contains(str, ",") {
		return v
	}
	ids := splitIDs(str)
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// collaboratorLists reads the collaborators' before and after values,
// comma-joined member ids.
func collaboratorLists(x jing.WebhookExtraData) (before, after []string) {
	c, ok := x.Changes()["collaborators"]
	if !ok {
		return nil, nil
	}
	return splitIDs(c.Before), splitIDs(c.After)
}

// splitIDs reads comma-joined ids (or a list of them).
func splitIDs(v any) []string {
	var out []string
	add := func(s string) {
		for _, id := range strings.Split(s, ",") {
			if id = strings.TrimSpace(id); id != "" {
				out = append(out, id)
			}
		}
	}
	switch x := v.(type) {
	case string:
		add(x)
	case []any:
		for _, e := range x {
			add(fmt.Sprint(e))
		}
	case nil:
	default:
		add(fmt.Sprint(x))
	}
	return out
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
