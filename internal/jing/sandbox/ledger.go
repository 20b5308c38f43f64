package sandbox

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strings"
)

// ledger is the sandbox's own bookkeeping beside the tenant: how far each
// integer id counter (a crowd's group_id, a lead's object_id) may have
// handed out ids, and the tokens it issued. It is small and written, and
// synced, whenever it changes (a token issued, a block of ids reserved),
// so neither a crash nor a kill -9 loses it, while the tenant itself is
// saved a few seconds after a change.
//
// Without it a process killed between a change and the next save would
// come back with its counters from before, and give a new crowd the
// group_id of a crowd a console already links to; and a console's stored
// token pair would stop working whenever the sandbox restarted.
type ledger struct {
	path string // "" without a state file: nothing is written
	log  *slog.Logger
	// Reserved maps a counter to the id below which ids may have been handed out.
	Reserved map[string]int64 `json:"reserved"`
	Tokens   tokenBook        `json:"tokens"`
	lost     bool             // the file was unreadable: what was handed out is unknown
}

// idBlock is how many integer ids are reserved on disk at a time.
const idBlock = 100

// idGapAfterLoss is how far every counter jumps when the ledger was
// unreadable: past any id a lost run can have handed out.
const idGapAfterLoss = 100_000

// ledgerPath is the ledger beside a state file ("sandbox.json" →
// "sandbox.ledger.json"); "" without one.
func ledgerPath(statePath string) string {
	if statePath == "" {
		return ""
	}
	return strings.TrimSuffix(statePath, ".json") + ".ledger.json"
}

// loadLedger reads the ledger; a missing one is empty, an unreadable one
// is kept aside and reported, and makes every counter jump.
func loadLedger(path string, log *slog.Logger) *ledger {
	l := &ledger{path: path, log: log, Reserved: map[string]int64{}}
	l.Tokens.afterLoad()
	if path == "" {
		return l
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l
	}
	if err == nil {
		err = json.Unmarshal(b, l)
	}
	if err != nil || l.Reserved == nil {
		kept := path + ".broken"
		os.Rename(path, kept)
		*l = ledger{path: path, log: log, Reserved: map[string]int64{}, lost: true}
		l.Tokens.afterLoad()
		log.Error("sandbox: the ledger did not load (kept aside); every id counter jumps ahead so that no id is handed out twice, and clients obtain new tokens",
			"path", path, "kept_as", kept, "jump", idGapAfterLoss, "error", err)
		return l
	}
	l.Tokens.afterLoad()
	return l
}

// save writes the ledger at once (with s.mu held); failures are logged,
// since the call that changed it has taken effect.
func (l *ledger) save(why string) {
	if l.path == "" {
		return
	}
	b, err := json.Marshal(l)
	if err == nil {
		err = writeFileAtomic(l.path, b, 0o600)
	}
	if err != nil {
		l.log.Error("sandbox: writing the ledger failed; were the sandbox killed before it is written again, "+why,
			"path", l.path, "error", err)
	}
}

// counters are the tenant's integer id counters, by name, each holding
// the next id to hand out.
func (t *tenant) counters() map[string]*int64 {
	return map[string]*int64{
		"crowd_group_id":    &t.People.NextGroupID,
		"lead_object_id":    &t.Leads.NextObjectID,
		"account_object_id": &t.Leads.NextAccountID,
	}
}

// resumeCounters moves every counter of t above the ids reserved before,
// however old the state t was loaded from.
func (l *ledger) resumeCounters(t *tenant) {
	for name, next := range t.counters() {
		if l.lost {
			*next += idGapAfterLoss
			l.Reserved[name] = *next
		}
		*next = max(*next, l.Reserved[name])
	}
	if l.lost { // a good ledger from now on, covering the jump
		l.lost = false
		l.save("ids could be handed out twice")
	}
}

// nextID hands out the next id of counter name (with s.mu held). When the
// id is beyond what the ledger covers, a further block is reserved on disk
// first.
func (s *Server) nextID(name string) int64 {
	next := s.tenant.counters()[name]
	id := *next
	*next++
	if l := s.ledger; l.path != "" && *next > l.Reserved[name] {
		l.Reserved[name] = id + idBlock
		l.save("an id could be handed out twice")
	}
	return id
}
