package crowds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

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
// bytes) and records an import for it, read as detected. A file the
// importer cannot read is refused with an *importfile.Error and nothing is
// kept.
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
	// The one time this step opens the file: detection and the first rows.
	det, smp, err := importfile.Inspect(tmp.Name(), name, previewRecords, previewBudget)
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
	p := newPreview(det, det.Options(), smp, nil, 0)
	p.Mapping = importfile.AutoMap(p.Header)
	return id, s.saveReading(ctx, id, p)
}

// filePath is where an import's file is.
func (s *Service) filePath(im db.Import) string { return filepath.Join(s.uploadDir(), im.FilePath) }

// Preview is an import's file as its reading options read it: what
// detection found, the first rows (from row 1, so the rows above the
// header show), the header row and the columns to map. It is read once
// per step and kept with the import, so viewing the import never opens
// the file.
type Preview struct {
	Detected  importfile.Detected
	Options   importfile.Options
	Records   []importfile.Record
	HeaderRow int // the header's row; 0 when the file has no row to read
	Proposed  int // the row detection proposed
	Header    []string
	Columns   int // columns to map: the header's, or more when the rows shown are wider
	Mapping   []string
	Err       *importfile.Error // the file cannot be read this way
}

// Preview sizes: the header is looked for (and chosen) in the first
// importfile.HeaderWithin rows, and PreviewRows rows under it are shown.
const (
	PreviewRows    = 20
	previewRecords = importfile.HeaderWithin + PreviewRows
	previewBudget  = 64 << 20 // bytes of the file read at most for it
	previewCell    = 200      // characters of a cell kept for the preview
)

// newPreview builds a preview from the start of the file; headerRow 0
// takes the row detection proposes.
func newPreview(det importfile.Detected, opt importfile.Options, smp importfile.Sample, err error, headerRow int) Preview {
	p := Preview{Detected: det, Options: opt, Columns: smp.Columns}
	var fe *importfile.Error
	if errors.As(err, &fe) {
		p.Err = fe
	}
	recs := smp.Records
	for _, r := range recs {
		for i, f := range r.Fields {
			r.Fields[i] = clipRunes(f, previewCell)
		}
		p.Records = append(p.Records, r)
		p.Columns = max(p.Columns, len(r.Fields))
	}
	p.Proposed, _ = importfile.FindHeader(recs)
	p.HeaderRow = p.Proposed
	if headerRow > 0 && slices.ContainsFunc(recs, func(r importfile.Record) bool { return r.Row == headerRow }) {
		p.HeaderRow = headerRow
	}
	p.Header = make([]string, p.Columns)
	for _, r := range recs {
		if r.Row == p.HeaderRow {
			copy(p.Header, r.Fields)
		}
	}
	p.Mapping = make([]string, p.Columns)
	return p
}

// DataRows are the rows of the preview under the header.
func (p Preview) DataRows() []importfile.Record {
	var out []importfile.Record
	for _, r := range p.Records {
		if r.Row > p.HeaderRow && len(out) < PreviewRows {
			out = append(out, r)
		}
	}
	return out
}

// HeaderChoices are the rows the header may be chosen from.
func (p Preview) HeaderChoices() []importfile.Record {
	var out []importfile.Record
	for _, r := range p.Records {
		if r.Row <= importfile.HeaderWithin {
			out = append(out, r)
		}
	}
	return out
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// saveReading records how the file is read and its preview.
func (s *Service) saveReading(ctx context.Context, id int64, p Preview) error {
	stored, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.cfg.Store.SetImportReading(ctx, id, db.ImportReading{Format: string(p.Options.Format), Encoding: p.Options.Encoding,
		Delimiter: string(p.Options.Delimiter), Sheet: p.Options.Sheet, HeaderRow: p.HeaderRow, Header: p.Header,
		Mapping: p.Mapping, Preview: string(stored)})
}

// SetReading changes how an import's file is read (encoding, delimiter,
// sheet, header row: 0 for the one detection proposes) and reads its first
// rows again. The mapping is kept when the columns are the same, else
// proposed from the new header. Rows validated before are dropped.
func (s *Service) SetReading(ctx context.Context, id int64, opt importfile.Options, headerRow int, mapping []string) (Preview, error) {
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil {
		return Preview{}, err
	}
	if im.Stage == db.ImportStarted {
		return Preview{}, ErrStarted
	}
	before, err := s.storedPreview(im)
	if err != nil {
		return Preview{}, err
	}
	det := before.Detected
	if opt.Format == importfile.FormatXLSX && opt.Sheet != before.Options.Sheet {
		headerRow = 0 // another sheet: its own header
		if i := slices.IndexFunc(det.Sheets, func(sh importfile.Sheet) bool { return sh.Name == opt.Sheet }); i < 0 {
			return Preview{}, &importfile.Error{Code: importfile.CodeSheet}
		}
	}
	smp, rerr := importfile.SampleFile(s.filePath(im), opt, previewRecords, previewBudget)
	p := newPreview(det, opt, smp, rerr, headerRow)
	switch {
	case len(mapping) > 0 && slices.Equal(p.Header, before.Header):
		p.Mapping = fitMapping(mapping, p.Columns)
	case slices.Equal(p.Header, before.Header):
		p.Mapping = fitMapping(before.Mapping, p.Columns)
	default:
		p.Mapping = fitMapping(importfile.AutoMap(p.Header), p.Columns)
	}
	return p, s.saveReading(ctx, id, p)
}

// fitMapping is a mapping with a role per column.
func fitMapping(m []string, columns int) []string {
	out := make([]string, columns)
	copy(out, m)
	return out
}

// ImportPreview is the preview of an import as it is read now (from the
// import; an import recorded before previews were kept is read once).
func (s *Service) ImportPreview(ctx context.Context, id int64) (db.Import, Preview, error) {
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil {
		return im, Preview{}, err
	}
	p, err := s.storedPreview(im)
	return im, p, err
}

func (s *Service) storedPreview(im db.Import) (Preview, error) {
	if im.Preview == "" {
		det, err := importfile.Detect(s.filePath(im), im.FileName)
		opt := readingOptions(im)
		if err != nil {
			return newPreview(det, opt, importfile.Sample{}, err, 0), nil
		}
		smp, err := importfile.SampleFile(s.filePath(im), opt, previewRecords, previewBudget)
		p := newPreview(det, opt, smp, err, im.HeaderRow)
		p.Mapping = fitMapping(im.Mapping, p.Columns)
		return p, nil
	}
	var p Preview
	if err := json.Unmarshal([]byte(im.Preview), &p); err != nil {
		return Preview{}, fmt.Errorf("crowds: import %d preview: %w", im.ID, err)
	}
	p.Mapping = fitMapping(im.Mapping, p.Columns)
	return p, nil
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

// Discard deletes an import that was never started, and its file; a
// validation under way is cancelled first.
func (s *Service) Discard(ctx context.Context, id int64) error {
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil {
		return err
	}
	if im.Stage == db.ImportStarted {
		return ErrStarted
	}
	s.cancelValidation(ctx, im)
	if err := s.cfg.Store.DeleteImport(ctx, id); err != nil {
		return err
	}
	if im.FilePath != "" {
		os.Remove(s.filePath(im))
	}
	return nil
}
