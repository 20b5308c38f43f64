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
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"github.com/jingdesk/jingdesk/internal/importfile"
)

// ErrTooLarge: the file is over the upload limit. The refusal that stands
// for it says the limit.
var ErrTooLarge = errors.New("crowds: the file is larger than the upload limit")

// ErrStarted refuses a change to an import that has been handed to its job.
var ErrStarted = msg.Refuse(msg.Conflict, "imports.error.started")

// ErrNoIdentity refuses a mapping without a column for the identity to match on.
var ErrNoIdentity = msg.Refuse(msg.Invalid, "imports.error.no_identity").On("identity")

// ErrRoleTwice: two columns are mapped to the same role. The refusal that
// stands for it names the role.
var ErrRoleTwice = errors.New("crowds: two columns are mapped to the same role")

// tooLarge is the refusal of a file over the limit.
func (s *Service) tooLarge() error {
	return msg.Refuse(msg.Invalid, "imports.error.too_large", msg.Nested("Size", FileSize(s.cfg.MaxUpload))).Because(ErrTooLarge)
}

// CheckUploadSize refuses, before any of it is read, a file of n bytes
// over the upload limit (a request says its length before its body).
func (s *Service) CheckUploadSize(n int64) error {
	if n > s.cfg.MaxUpload {
		return s.tooLarge()
	}
	return nil
}

// FileSize is a byte count as people read it (12 bytes, 3.5 KB, 100 MB).
func FileSize(n int64) msg.Message {
	oneDecimal := func(f float64) string { return strings.TrimSuffix(strconv.FormatFloat(f, 'f', 1, 64), ".0") }
	switch {
	case n >= 1<<20:
		return msg.New("imports.size_mb", msg.Str("N", oneDecimal(float64(n)/(1<<20))))
	case n >= 1<<10:
		return msg.New("imports.size_kb", msg.Str("N", oneDecimal(float64(n)/(1<<10))))
	}
	return msg.New("imports.size_bytes", msg.Int("N", n))
}

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
		return 0, s.tooLarge()
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

// ReadingChoice is how the user asks for the file to be read, as the
// decode step's form gives it: an encoding, a delimiter or a sheet that is
// empty or not offered keeps how the file is read now (a sheet only
// counts for a workbook), and HeaderRow 0 keeps the header row.
type ReadingChoice struct {
	Encoding, Delimiter, Sheet string
	HeaderRow                  int
}

// ChooseReading reads an import's file the way the user chose (see
// ReadingChoice and SetReading); mapping, when given, is kept if the
// columns stay the same.
func (s *Service) ChooseReading(ctx context.Context, id int64, ch ReadingChoice, mapping []string) (Preview, error) {
	im, err := s.cfg.Store.Import(ctx, id)
	if err != nil {
		return Preview{}, err
	}
	opt := readingOptions(im)
	if slices.Contains(importfile.Encodings, ch.Encoding) {
		opt.Encoding = ch.Encoding
	}
	if d := []rune(ch.Delimiter); len(d) == 1 && slices.Contains(importfile.Delimiters, d[0]) {
		opt.Delimiter = d[0]
	}
	if ch.Sheet != "" && opt.Format == importfile.FormatXLSX {
		opt.Sheet = ch.Sheet
	}
	headerRow := im.HeaderRow
	if ch.HeaderRow > 0 {
		headerRow = ch.HeaderRow
	}
	return s.setReading(ctx, im, opt, headerRow, mapping)
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
	return s.setReading(ctx, im, opt, headerRow, mapping)
}

func (s *Service) setReading(ctx context.Context, im db.Import, opt importfile.Options, headerRow int, mapping []string) (Preview, error) {
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
	return p, s.saveReading(ctx, im.ID, p)
}

// fitMapping is a mapping with a role per column (a role the importer does
// not know is no role).
func fitMapping(m []string, columns int) []string {
	out := make([]string, columns)
	copy(out, m)
	return knownRoles(out)
}

// knownRoles is m with a role the importer does not know (a form that is
// not the console's) made no role.
func knownRoles(m []string) []string {
	out := slices.Clone(m)
	for i, role := range out {
		if !slices.Contains(importfile.Roles, role) {
			out[i] = ""
		}
	}
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
	err = s.cfg.Store.DeleteImport(ctx, id)
	if errors.Is(err, db.ErrConflict) { // started meanwhile
		return ErrStarted
	}
	if err != nil {
		return err
	}
	if im.FilePath != "" {
		os.Remove(s.filePath(im))
	}
	return nil
}
