package web

import (
	"fmt"
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

// showSystem is Settings → System (administrators).
func (s *Server) showSystem(c echo.Context) error {
	ctx := c.Request().Context()
	now := s.Now()
	b := s.Build
	v := settings.SystemView{
		Version: b.Version, Commit: b.Commit, BuildDate: b.Date,
		GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		Now:       now.Unix(), StartedAt: s.StartedAt.Unix(), UptimeSec: int64(time.Since(s.StartedAt).Seconds()),
		DataDir:    s.DataDir,
		MetricsURL: s.publicBase(c) + "/metrics",
	}
	if s.DataDir == "" {
		v.DataDir = filepath.Dir(s.Store.Path())
	}
	if abs, err := filepath.Abs(v.DataDir); err == nil {
		v.DataDir = abs
	}
	v.BackupDir = filepath.Join(v.DataDir, backupsDir)
	v.DBSize, v.WALSize = s.Store.FileSizes()
	if s.MetricsAddr != "" {
		v.MetricsAddrURL = "http://" + s.MetricsAddr + "/metrics"
	}
	if s.Platform != nil {
		st, err := s.Platform.Status(ctx)
		if err != nil {
			return err
		}
		v.HasPlatform, v.Sandbox, v.PlatformURL = true, st.Sandbox, st.BaseURL
	}
	jobs, err := s.Store.JobStateCounts(ctx)
	if err != nil {
		return err
	}
	for _, st := range jobStates {
		v.Jobs = append(v.Jobs, settings.SystemCount{State: st, Count: jobs[st], URL: "/jobs"})
	}
	hooks, err := s.Store.WebhookCounts(ctx)
	if err != nil {
		return err
	}
	for _, st := range live.States {
		v.Webhooks = append(v.Webhooks, settings.SystemCount{State: st, Count: hooks[st], URL: live.EventsURL(st, 0)})
	}
	v.WebhooksURL = live.EventsPath
	v.LastBackup = newestBackup(v.BackupDir)
	sc := backup.ScheduleFrom(func(key string) (string, error) { return s.Store.Setting(ctx, key) })
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
	return s.render(c, http.StatusOK, View{Title: t(c, "system.tab"), Section: "settings", Body: settings.System(v)})
}

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
func (s *Server) saveBackupSchedule(c echo.Context) error {
	every, err1 := strconv.Atoi(strings.TrimSpace(c.FormValue("every_hours")))
	keep, err2 := strconv.Atoi(strings.TrimSpace(c.FormValue("keep")))
	if err1 != nil || err2 != nil || every < 0 || every > 24*30 || keep < 1 || keep > 365 {
		return redirectWithFlash(c, ui.FlashError, t(c, "system.backup.schedule_invalid"), "/settings/system")
	}
	ctx := c.Request().Context()
	if err := s.Store.SetSetting(ctx, backup.SettingEveryHours, strconv.Itoa(every)); err != nil {
		return err
	}
	if err := s.Store.SetSetting(ctx, backup.SettingKeep, strconv.Itoa(keep)); err != nil {
		return err
	}
	s.audit(c, db.AuditEntry{Action: "backup.schedule", Object: "settings:backup",
		Summary: fmt.Sprintf("scheduled backups every %d h, %d kept", every, keep)})
	return redirectWithFlash(c, ui.FlashSuccess, t(c, "system.backup.schedule_saved"), "/settings/system")
}
