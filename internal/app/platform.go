package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/jingdesk/jingdesk/internal/jing"
	"github.com/jingdesk/jingdesk/internal/platform"
)

// catalogFile is where a deployment corrects the endpoint catalog.
func (d *dataDir) catalogFile() string { return filepath.Join(d.path, "catalog.json") }

// sandboxStateFile keeps the embedded sandbox's demo tenant across restarts.
func (d *dataDir) sandboxStateFile() string { return filepath.Join(d.path, "sandbox.json") }

// loadCatalog reads the catalog overrides; a broken file stops start-up,
// since running with a wrong path would fail later and less clearly.
func loadCatalog(path string, logger *slog.Logger) (jing.Catalog, error) {
	cat, err := jing.LoadCatalog(path)
	if err != nil {
		// err names the file, the line, the entry and the field.
		return jing.Catalog{}, fmt.Errorf("invalid endpoint catalog: %w\n(correct the file, or remove it to use the built-in catalog)", err)
	}
	if n := len(platform.CatalogDifferences(cat)); n > 0 {
		logger.Info("endpoint catalog overrides loaded", "file", path, "entries", n)
	}
	return cat, nil
}

// openPlatform connects to the platform the flags, the environment or the
// stored settings name, or starts the embedded sandbox when none do.
func openPlatform(ctx context.Context, d *dataDir, cfg ServeConfig, logger *slog.Logger) (*platform.Manager, error) {
	cat, err := loadCatalog(d.catalogFile(), logger)
	if err != nil {
		return nil, err
	}
	box, err := d.secretBox()
	if err != nil {
		return nil, err
	}
	return platform.Open(ctx, platform.Config{
		Store:     d.store,
		Box:       box,
		Catalog:   cat,
		Overrides: platform.Overrides{BaseURL: cfg.JingBaseURL, AppID: cfg.JingAppID, AppSecret: cfg.JingAppSecret},
		Sandbox: platform.SandboxOptions{Seed: cfg.SandboxSeed, StatePath: d.sandboxStateFile(),
			ChangesPerMinute: cfg.SandboxChangesPerMinute},
		Logger: logger,
	})
}
