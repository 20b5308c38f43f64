package sends

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/importfile"
)

// Settings are the sending rules an administrator sets.
type Settings struct {
	TestMobiles []string `json:"test_mobiles"` // the only numbers a test SMS goes to
	TestEmails  []string `json:"test_emails"`  // the only addresses a test email goes to
	// ConfirmTypeAbove: confirming a send to more people than this asks
	// for the count to be typed.
	ConfirmTypeAbove int64 `json:"confirm_type_above"`
	// ApprovalAbove: a send to more people than this waits for a second
	// person's approval; 0 turns approval off.
	ApprovalAbove int64 `json:"approval_above"`
}

// DefaultSettings apply until an administrator saves others.
var DefaultSettings = Settings{ConfirmTypeAbove: 1000}

const settingsKey = "sends.settings"

// Settings returns the current sending rules.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	raw, err := s.cfg.Store.Setting(ctx, settingsKey)
	if errors.Is(err, db.ErrNotFound) {
		return DefaultSettings, nil
	}
	if err != nil {
		return Settings{}, err
	}
	st := DefaultSettings
	return st, json.Unmarshal([]byte(raw), &st)
}

// SaveSettings checks and stores the sending rules: the test recipients
// normalised (one that is not a mobile, or an email address, is refused
// on its field), negative thresholds taken as 0.
func (s *Service) SaveSettings(ctx context.Context, st Settings) (Settings, error) {
	mobiles, errM := normaliseAll("test_mobiles", importfile.ColMobile, st.TestMobiles)
	emails, errE := normaliseAll("test_emails", importfile.ColEmail, st.TestEmails)
	if err := errors.Join(errM, errE); err != nil {
		return st, err
	}
	st.TestMobiles, st.TestEmails = mobiles, emails
	st.ConfirmTypeAbove, st.ApprovalAbove = max(st.ConfirmTypeAbove, 0), max(st.ApprovalAbove, 0)
	b, _ := json.Marshal(st)
	return st, s.cfg.Store.SetSetting(ctx, settingsKey, string(b))
}

// SettingsText is Settings → Sends as typed: the test recipients one a
// line (or separated by commas or semicolons), the thresholds whole
// numbers (thousands separators allowed).
type SettingsText struct {
	TestMobiles, TestEmails         string
	ConfirmTypeAbove, ApprovalAbove string
}

// SaveSettingsText reads the settings as typed and saves them. Every
// field's problem is refused at once (the refusals joined, each on its
// field); nothing is saved while one remains.
func (s *Service) SaveSettingsText(ctx context.Context, in SettingsText) (Settings, error) {
	st := Settings{TestMobiles: splitList(in.TestMobiles), TestEmails: splitList(in.TestEmails)}
	var errConfirm, errApproval error
	st.ConfirmTypeAbove, errConfirm = readThreshold("confirm_type_above", in.ConfirmTypeAbove)
	st.ApprovalAbove, errApproval = readThreshold("approval_above", in.ApprovalAbove)
	_, errM := normaliseAll("test_mobiles", importfile.ColMobile, st.TestMobiles)
	_, errE := normaliseAll("test_emails", importfile.ColEmail, st.TestEmails)
	if err := errors.Join(errM, errE, errConfirm, errApproval); err != nil {
		return st, err
	}
	return s.SaveSettings(ctx, st)
}

// readThreshold reads a whole number, 0 or more, for field.
func readThreshold(field, raw string) (int64, error) {
	n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(raw), ",", ""), 10, 64)
	if err != nil || n < 0 {
		return 0, errBadNumber(field)
	}
	return n, nil
}

// splitList reads a typed list: one a line, or separated by commas or
// semicolons (ASCII or full-width), blanks dropped.
func splitList(v string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune("\n\r,，;；", r) }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// normaliseAll normalises values as the importer reads a column of role;
// the first that is not one is refused on field.
func normaliseAll(field, role string, values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		if strings.TrimSpace(v) == "" {
			continue
		}
		n, reason := importfile.Normalize(role, v)
		if reason != "" {
			return nil, errBadRecipient(field, v)
		}
		out = append(out, n)
	}
	return out, nil
}
