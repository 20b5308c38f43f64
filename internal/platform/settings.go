package platform

import (
	"context"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"strings"
)

// SettingsInput is a change to the stored settings. Fields set by flags or
// the environment are ignored: those win anyway.
type SettingsInput struct {
	BaseURL string // "" means the production platform
	AppID   string
	// AppSecret replaces the stored secret; "" keeps it.
	AppSecret string
}

// Status is the connection as the Platform page shows it.
type Status struct {
	Sandbox bool
	// BaseURL is where the client calls (the embedded sandbox's address in sandbox mode).
	BaseURL string
	// AppID is the effective app_id ("sandbox" in sandbox mode).
	AppID string
	// Stored is what the console holds; Locked says which fields the flags or environment set instead.
	Stored Settings
	Locked Locks
	// Effective values the form shows for locked fields (never the secret).
	LockedBaseURL string
	LockedAppID   string
	// SecretUnreadable: a secret is stored that this data directory's key cannot decrypt.
	SecretUnreadable bool
	// Incomplete: some settings are present but app_id or app_secret is
	// missing, so the sandbox stays in use.
	Incomplete bool
	Renewals   int
}

// Status reports the current connection and settings.
func (m *Manager) Status(ctx context.Context) (Status, error) {
	r, err := m.resolve(ctx)
	if err != nil {
		return Status{}, err
	}
	c := m.cur.Load()
	st := Status{Sandbox: c.sandbox != nil, BaseURL: c.client.BaseURL(), AppID: r.creds.AppID, Stored: r.stored,
		Locked: r.locked, SecretUnreadable: r.unreadable, Renewals: c.client.Renewals()}
	if st.Sandbox {
		st.AppID = "sandbox"
		st.Incomplete = r.creds.AppID != "" || r.creds.AppSecret != "" || r.stored.BaseURL != "" || r.locked.BaseURL
	}
	if r.locked.BaseURL {
		st.LockedBaseURL = m.cfg.Overrides.BaseURL
	}
	if r.locked.AppID {
		st.LockedAppID = m.cfg.Overrides.AppID
	}
	return st, nil
}

// Save stores the settings and switches the live client at once. It
// returns what changed, as messages for the audit log (never the secret).
func (m *Manager) Save(ctx context.Context, in SettingsInput) ([]msg.Message, error) {
	r, err := m.resolve(ctx)
	if err != nil {
		return nil, err
	}
	var changes []msg.Message
	in.BaseURL = strings.TrimRight(strings.TrimSpace(in.BaseURL), "/")
	in.AppID = strings.TrimSpace(in.AppID)
	if !r.locked.BaseURL && in.BaseURL != r.stored.BaseURL {
		if err := m.put(ctx, keyBaseURL, in.BaseURL); err != nil {
			return nil, err
		}
		changes = append(changes, describe("base_url", in.BaseURL))
	}
	if !r.locked.AppID && in.AppID != r.stored.AppID {
		if err := m.put(ctx, keyAppID, in.AppID); err != nil {
			return nil, err
		}
		changes = append(changes, describe("app_id", in.AppID))
	}
	if !r.locked.AppSecret && in.AppSecret != "" {
		sealed, err := m.cfg.Box.Seal(in.AppSecret)
		if err != nil {
			return nil, err
		}
		if err := m.put(ctx, keyAppSecret, sealed); err != nil {
			return nil, err
		}
		changes = append(changes, msg.New("audit.summary.secret_replaced"))
	}
	return changes, m.Reload(ctx)
}

// ClearSecret removes the stored app_secret (which, unless the environment
// gives one, returns the console to the sandbox). It reports whether one was stored.
func (m *Manager) ClearSecret(ctx context.Context) (bool, error) {
	sealed, err := m.setting(ctx, keyAppSecret)
	if err != nil || sealed == "" {
		return false, err
	}
	if err := m.cfg.Store.DeleteSetting(ctx, keyAppSecret); err != nil {
		return false, err
	}
	return true, m.Reload(ctx)
}

// put stores a setting; an empty value removes it.
func (m *Manager) put(ctx context.Context, key, value string) error {
	if value == "" {
		return m.cfg.Store.DeleteSetting(ctx, key)
	}
	return m.cfg.Store.SetSetting(ctx, key, value)
}

func describe(field, value string) msg.Message {
	if value == "" {
		return msg.New("audit.summary.setting_cleared", msg.Str("Field", field))
	}
	return msg.New("audit.summary.setting_set", msg.Str("Field", field), msg.Str("Value", value))
}
