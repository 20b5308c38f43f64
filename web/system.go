package web

import (
	"context"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/backup"
	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/platform"
	"github.com/jingdesk/jingdesk/internal/retention"
	"github.com/jingdesk/jingdesk/internal/webhooks"
	"github.com/jingdesk/jingdesk/templates/live"
	"github.com/jingdesk/jingdesk/templates/settings"
	"github.com/jingdesk/jingdesk/templates/ui"
)

// BuildInfo is what the release build stamped into the binary.
type BuildInfo struct {
	Version string
	Commit  string
	Date    string // UTC RFC 3339
}

// backupsDir is where backups are written, under the data directory.
const backupsDir = "backups"

// systemArea is Settings → System and /metrics (administrators): the
// build, the process, the data directory, the backup schedule, and the
// counters a monitoring system scrapes.
type systemArea struct {
	*kit
	store       systemStore
	platform    systemPlatform
	history     historyKeepers
	metrics     *httpMetrics
	build       BuildInfo
	dataDir     string
	startedAt   time.Time
	metricsAddr string // the separate /metrics listener, "" when off
}

// systemStore is what the system page and the metrics read of the store
// (and the backup schedule they write).
type systemStore interface {
	Path() string
	FileSizes() (file, wal int64)
	JobStateCounts(ctx context.Context) (map[string]int64, error)
	WebhookCounts(ctx context.Context) (map[string]int64, error)
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	Space(ctx context.Context) ([]db.TableSpace, error)
}

// historyKeepers are the services that own a kind of history and how long
// it is kept (days, 0: forever). Imports is nil without the crowds service.
type historyKeepers struct {
	imports interface {
		ImportRowsRetention(ctx context.Context) (int, error)
		SaveImportRowsRetention(ctx context.Context, days int) error
	}
	scores interface {
		HistoryRetention(ctx context.Context) (int, error)
		SaveHistoryRetention(ctx context.Context, days int) error
	}
	webhooks interface {
		Retention(ctx context.Context) (webhooks.Retention, error)
	}
}

// spaceTimeout bounds measuring the tables (it reads every page of the
// file): past it the page says it could not measure, and shows the rest.
const spaceTimeout = 5 * time.Second

// systemPlatform is what they show of the platform connection.
type systemPlatform interface {
	Status(ctx context.Context) (platform.Status, error)
	Sandbox() bool
	Stats(ctx context.Context) []jing.EndpointStats
}

// showSystem is Settings → System (administrators).
func (a *systemArea) showSystem(c echo.Context) error {
	ctx := c.Request().Context()
	now := a.now()
	b := a.build
	v := settings.SystemView{
		Version: b.Version, Commit: b.Commit, BuildDate: b.Date,
		GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		Now:       now.Unix(), StartedAt: a.startedAt.Unix(), UptimeSec: int64(time.Since(a.startedAt).Seconds()),
		DataDir:    a.dataDir,
		MetricsURL: a.publicBase(c) + "/metrics",
	}
	if a.dataDir == "" {
		v.DataDir = filepath.Dir(a.store.Path())
	}
	if abs, err := filepath.Abs(v.DataDir); err == nil {
		v.DataDir = abs
	}
	v.BackupDir = filepath.Join(v.DataDir, backupsDir)
	v.DBSize, v.WALSize = a.store.FileSizes()
	if a.metricsAddr != "" {
		v.MetricsAddrURL = "http://" + a.metricsAddr + "/metrics"
	}
	st, err := a.platform.Status(ctx)
	if err != nil {
		return err
	}
	v.HasPlatform, v.Sandbox, v.PlatformURL = true, st.Sandbox, st.BaseURL
	jobs, err := a.store.JobStateCounts(ctx)
	if err != nil {
		return err
	}
	for _, st := range jobStates {
		v.Jobs = append(v.Jobs, settings.SystemCount{State: st, Count: jobs[st], URL: "/jobs"})
	}
	hooks, err := a.store.WebhookCounts(ctx)
	if err != nil {
		return err
	}
	for _, st := range live.States {
		v.Webhooks = append(v.Webhooks, settings.SystemCount{State: st, Count: hooks[st], URL: live.EventsURL(st, 0)})
	}
	v.WebhooksURL = live.EventsPath
	if err := a.fillStorage(c, &v); err != nil {
		return err
	}
	v.LastBackup = newestBackup(v.BackupDir)
	sc := backup.ScheduleFrom(func(key string) (string, error) { return a.store.Setting(ctx, key) })
	v.BackupEveryHours, v.BackupKeep = int(sc.Every/time.Hour), sc.Keep
	v.BackupPassphraseFile = filepath.Join(v.DataDir, backup.PassphraseFile)
	switch opts, err := backup.OwnOptions(v.DataDir); {
	case err != nil:
		v.BackupEncryption = settings.BackupPassphraseUnusable
	case opts.Passphrase != "":
		v.BackupEncryption = settings.BackupEncrypted
	default:
		v.BackupEncryption = settings.BackupPlain
	}
	return a.render(c, http.StatusOK, View{Title: t(c, "system.tab"), Section: "settings", Body: settings.System(v)})
}

// fillStorage is what takes the room in the database, table by table, and
// how long each kind of history is kept.
func (a *systemArea) fillStorage(c echo.Context, v *settings.SystemView) error {
	ctx := c.Request().Context()
	measure, cancel := context.WithTimeout(ctx, spaceTimeout)
	defer cancel()
	space, err := a.store.Space(measure)
	switch {
	case err != nil && ctx.Err() == nil:
		a.log(c).Warn("measure the database's tables", "error", err)
		v.SpaceUnmeasured = true
	case err != nil:
		return err
	}
	for _, t := range space {
		v.Space = append(v.Space, settings.TableSpace{Table: t.Table, Rows: t.Rows, Bytes: t.Bytes, IndexBytes: t.IndexBytes, Analyzed: t.Analyzed})
	}
	k := &v.Keep
	k.ImportRows = -1
	if a.history.imports != nil {
		if k.ImportRows, err = a.history.imports.ImportRowsRetention(ctx); err != nil {
			return err
		}
	}
	if k.ScoreHistory, err = a.history.scores.HistoryRetention(ctx); err != nil {
		return err
	}
	r, err := a.history.webhooks.Retention(ctx)
	k.WebhooksApplied, k.WebhooksFailed = r.AppliedDays, r.FailedDays
	return err
}

// saveRetention sets how long import rows and score history are kept
// (days, 0: forever); the hourly upkeep applies it.
func (a *systemArea) saveRetention(c echo.Context) error {
	ctx := c.Request().Context()
	// Both are read before either is saved: a refused one changes nothing.
	scores, err := formDays(c, "keep_score_history_days")
	imports := -1
	if err == nil && a.history.imports != nil {
		imports, err = formDays(c, "keep_import_rows_days")
	}
	if err == nil {
		err = a.history.scores.SaveHistoryRetention(ctx, scores)
	}
	if err == nil && a.history.imports != nil {
		err = a.history.imports.SaveImportRowsRetention(ctx, imports)
	}
	if text, refused := userMessage(c, err); refused {
		return redirectWithFlash(c, ui.FlashError, text, systemPath+"#retention")
	}
	if err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "retention.save", Object: "settings:retention",
		Summary: summary("retention_saved", msg.Int("Scores", int64(scores)), msg.Int("Imports", int64(imports))).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "system.retention.saved"), systemPath+"#retention")
}

// formDays is a retention field: a whole number of days in range, or
// retention.ErrDays.
func formDays(c echo.Context, name string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(c.FormValue(name)))
	if err != nil || !retention.Valid(n) {
		return 0, retention.ErrDays
	}
	return n, nil
}

// systemPath is Settings → System.
const systemPath = "/settings/system"

// isBackupName matches the archives `jingdesk backup` and the pre-upgrade
// backup write: jingdesk-*.tar.gz and pre-upgrade-*.tar.gz (.tar.gz.age encrypted).
func isBackupName(name string) bool {
	if !strings.HasSuffix(name, ".tar.gz") && !strings.HasSuffix(name, ".tar.gz.age") {
		return false
	}
	return strings.HasPrefix(name, "jingdesk-") || strings.HasPrefix(name, "pre-upgrade-")
}

// newestBackup is the most recently written backup in dir; nil when there is none.
func newestBackup(dir string) *settings.BackupFile {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var best *settings.BackupFile
	for _, e := range entries {
		if !e.Type().IsRegular() || !isBackupName(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if best == nil || info.ModTime().Unix() > best.ModTime ||
			(info.ModTime().Unix() == best.ModTime && e.Name() > best.Name) {
			best = &settings.BackupFile{Name: e.Name(), ModTime: info.ModTime().Unix(), Size: info.Size()}
		}
	}
	return best
}

// saveBackupSchedule sets how often scheduled backups are taken (hours,
// 0 for none) and how many are kept.
func (a *systemArea) saveBackupSchedule(c echo.Context) error {
	every, err1 := strconv.Atoi(strings.TrimSpace(c.FormValue("every_hours")))
	keep, err2 := strconv.Atoi(strings.TrimSpace(c.FormValue("keep")))
	if err1 != nil || err2 != nil || every < 0 || every > 24*30 || keep < 1 || keep > 365 {
		return redirectWithFlash(c, ui.FlashError, t(c, "system.backup.schedule_invalid"), "/settings/system")
	}
	ctx := c.Request().Context()
	if err := a.store.SetSetting(ctx, backup.SettingEveryHours, strconv.Itoa(every)); err != nil {
		return err
	}
	if err := a.store.SetSetting(ctx, backup.SettingKeep, strconv.Itoa(keep)); err != nil {
		return err
	}
	a.audit(c, db.AuditEntry{Action: "backup.schedule", Object: "settings:backup",
		Summary: summary("backup_schedule", msg.Int("Hours", int64(every)), msg.Int("Keep", int64(keep))).Encode()})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "system.backup.schedule_saved"), "/settings/system")
}
