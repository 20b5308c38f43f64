package crowds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/importfile"
)

// ErrTooLarge refuses a file over the configured size.
var ErrTooLarge = errors.New("crowds: the file is larger than the upload limit")

// ErrStarted refuses a change to an import that has been handed to its job.
var ErrStarted = errors.New("crowds: the import has already started")

// ErrNoIdentity refuses a mapping without a column for the identity to match on.
var ErrNoIdentity = errors.New("crowds: no column is mapped to the identity to match on")

// Upload stores an uploaded file (streamed, hashed, at most MaxUpload
// bytes) and records an import for it, reading options detected. A file
// the importer cannot read is refused with an *importfile.Error and
// nothing is kept.
func (s *Service) Upload(ctx context.Context, userID int64, name string, body io.Reader) (int64, error) {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/")) // browsers on Windows may send a path
	if err := os.MkdirAll(s.uploadDir(), 0o700); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(s.uploadDir(), "upload-*"+strings.ToLower(filepath.Ext(name)))
	if err != nil {
		return 0, err
	}
	keep := false
	defer func() {
		if !keep {
			os.Remove(tmp.Name())
		}
	}()
	hash := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, hash), io.LimitReader(body, s.cfg.MaxUpload+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("crowds: store upload: %w", err)
	}
	if n > s.cfg.MaxUpload {
		return 0, ErrTooLarge
	}
	det, err := importfile.Detect(tmp.Name(), name)
	if err != nil {
		return 0, err
	}
	_, conn := s.cfg.Platform.Current()
	id, err := s.cfg.Store.CreateImport(ctx, db.NewImport{UserID: userID, Connection: conn, FileName: name,
		FilePath: filepath.Base(tmp.Name()), FileSize: n, FileSHA256: hex.EncodeToString(hash.Sum(nil))})
	if err != nil {
		return 0, err
	}
	keep = true
	opt := det.Options()
	if _, err := s.SetReading(ctx, id, opt); err != nil {
		return id, err
	}
	return id, nil
}

// filePath is where an import's file is.
func (s *Service) filePath(im db.Import) string { return filepath.Join(s.uploadDir(), im.FilePath) }

// Preview is the decoded start of an import's file as its reading options read it.
type Preview struct {
	Detected importfile.Detected // what detection found (sheets for xlsx)
	Options  importfile.Options  // how it is read now
	Header   []string
	Rows     []importfile.Record
	Mapping  []string
	Err      error // the file cannot be read this way (*importfile.Error)
}

// PreviewRows is how many rows the decode step shows.
const PreviewRows = 20

// SetReading changes how an import's file is read, proposes a mapping for
// its header and returns the preview. Rows validated before are dropped.
func (s *Service) SetReading(ctx context.Context, id int64, opt importfile.Options) (Preview, error) {
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil {
		return Preview{}, err
	}
	if im.Stage == db.ImportStarted {
		return Preview{}, ErrStarted
	}
	p := s.preview(im, opt)
	p.Mapping = importfile.AutoMap(p.Header)
	err = s.cfg.Store.SetImportReading(ctx, id, db.ImportReading{Format: string(opt.Format), Encoding: opt.Encoding,
		Delimiter: string(opt.Delimiter), Sheet: opt.Sheet, Header: p.Header, Mapping: p.Mapping})
	return p, err
}

// ImportPreview is the preview of an import as it is read now.
func (s *Service) ImportPreview(ctx context.Context, id int64) (db.Import, Preview, error) {
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil {
		return im, Preview{}, err
	}
	p := s.preview(im, readingOptions(im))
	p.Mapping = im.Mapping
	return im, p, nil
}

func (s *Service) preview(im db.Import, opt importfile.Options) Preview {
	p := Preview{Options: opt}
	p.Detected, p.Err = importfile.Detect(s.filePath(im), im.FileName)
	if p.Err != nil {
		return p
	}
	p.Header, p.Rows, p.Err = importfile.Preview(s.filePath(im), opt, PreviewRows)
	return p
}

// readingOptions are an import's stored reading options.
func readingOptions(im db.Import) importfile.Options {
	opt := importfile.Options{Format: importfile.Format(im.Format), Encoding: im.Encoding, Sheet: im.Sheet}
	if d := []rune(im.Delimiter); len(d) == 1 {
		opt.Delimiter = d[0]
	}
	return opt
}

// PreviousImports are the started imports of the same file (by hash), so
// the wizard can ask before importing it again.
func (s *Service) PreviousImports(ctx context.Context, im db.Import) ([]db.Import, error) {
	same, err := s.cfg.Store.ListImports(ctx, db.ImportFilter{SHA256: im.FileSHA256, Started: true, Limit: 10})
	return slices.DeleteFunc(same, func(o db.Import) bool { return o.ID == im.ID }), err
}

// validateChunk is how many rows validation writes per transaction.
const validateChunk = 2000

// Validate reads the whole file with mapping (a role per column) and
// stores every non-empty row's verdict, matching on identityType (a role
// of importfile.MatchRoles). Nothing is sent to the platform.
func (s *Service) Validate(ctx context.Context, id int64, mapping []string, identityType string) (db.ImportCounts, error) {
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil {
		return db.ImportCounts{}, err
	}
	if im.Stage == db.ImportStarted {
		return db.ImportCounts{}, ErrStarted
	}
	col, nameCol := slices.Index(mapping, identityType), slices.Index(mapping, importfile.ColName)
	if col < 0 || !slices.Contains(importfile.MatchRoles, identityType) {
		return db.ImportCounts{}, ErrNoIdentity
	}
	// Start from no rows: a second validation replaces the first.
	reading := db.ImportReading{Format: im.Format, Encoding: im.Encoding, Delimiter: im.Delimiter, Sheet: im.Sheet,
		Header: im.Header, Mapping: mapping}
	if err := s.cfg.Store.SetImportReading(ctx, id, reading); err != nil {
		return db.ImportCounts{}, err
	}
	total, empty, err := s.storeRows(ctx, im, col, nameCol, identityType)
	if err != nil {
		return db.ImportCounts{}, err
	}
	return s.cfg.Store.FinishValidation(ctx, id, identityType, mapping, total, empty)
}

// storeRows streams the file's data rows into import_rows with their
// verdict, in chunks, and counts the rows read and the empty ones.
func (s *Service) storeRows(ctx context.Context, im db.Import, col, nameCol int, identityType string) (total, empty int64, err error) {
	r, err := importfile.Open(s.filePath(im), readingOptions(im))
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	if _, err := r.Next(); err != nil { // the header
		if errors.Is(err, io.EOF) {
			return 0, 0, &importfile.Error{Code: importfile.CodeEmpty}
		}
		return 0, 0, err
	}
	chunk := make([]db.ImportRow, 0, validateChunk)
	flush := func() error {
		err := s.cfg.Store.AddImportRows(ctx, im.ID, chunk)
		chunk = chunk[:0]
		return err
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		total++
		if importfile.EmptyRecord(rec.Fields) {
			empty++
			continue
		}
		chunk = append(chunk, verdict(rec, col, nameCol, identityType))
		if len(chunk) == validateChunk {
			if err := flush(); err != nil {
				return 0, 0, err
			}
		}
	}
	return total, empty, flush()
}

// verdict is a row as validation judges it: pending with its normalised
// value, or invalid with the reason.
func verdict(rec importfile.Record, col, nameCol int, identityType string) db.ImportRow {
	row := db.ImportRow{Line: int64(rec.Line), Raw: field(rec.Fields, col), Name: field(rec.Fields, nameCol)}
	row.Value, row.Reason = importfile.Normalize(identityType, row.Raw)
	row.State = db.RowPending
	if row.Reason != "" {
		row.State, row.Value = db.RowInvalid, ""
	}
	return row
}

func field(fields []string, i int) string {
	if i < 0 || i >= len(fields) {
		return ""
	}
	return fields[i]
}

// Discard deletes an import that was never started, and its file.
func (s *Service) Discard(ctx context.Context, id int64) error {
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil {
		return err
	}
	if im.Stage == db.ImportStarted {
		return ErrStarted
	}
	if err := s.cfg.Store.DeleteImport(ctx, id); err != nil {
		return err
	}
	if im.FilePath != "" {
		os.Remove(s.filePath(im))
	}
	return nil
}
