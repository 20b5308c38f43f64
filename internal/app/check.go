package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/jingdesk/jingdesk/internal/i18n/msg"
	"io"
	"strings"
	"time"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/i18n"
	"github.com/jingdesk/jingdesk/internal/platform"
)

// checkOptions are the flags of `jingdesk check`.
type checkOptions struct {
	conn    ServeConfig // the data directory, the platform connection's settings, the log's
	yes     bool
	strict  bool
	lang    string
	timeout time.Duration
}

func parseCheck(args []string, io IO) (checkOptions, error) {
	var o checkOptions
	fs := newFlagSet("check", io)
	fs.BoolVar(&o.yes, "yes", false, "make the calls without asking (a configured platform's quotas are spent; the embedded sandbox never asks)")
	fs.BoolVar(&o.strict, "strict", false, "also fail on notes (lists answered without _meta)")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "give up on the calls after this long")
	settings := append(lookup(serveSettings(&o.conn), "data", "jing-base-url", "jing-app-id", "JINGDESK_JING_APP_SECRET",
		"sandbox-seed", "timezone", "log-format"),
		setting{flag: "log-level", def: "error", set: logLevel(&o.conn.LogLevel),
			help: "log `level` on standard error: debug, info, warn or error (the report says what went wrong)"},
		setting{flag: "lang", env: "JINGDESK_LANG", set: language(&o.lang),
			help: "`language` of the output: zh-CN or en (default: en for an en_* locale in LC_ALL, LC_MESSAGES or LANG, else zh-CN)"})
	if err := loadSettings(fs, args, io.lookupEnv, settings); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "unexpected argument %q\n", fs.Arg(0))
		return o, ErrUsage
	}
	if o.lang == "" {
		o.lang = languageFromEnvironment(io)
	}
	return o, nil
}

// language reads --lang; "" leaves the choice to the POSIX locale.
func language(p *string) func(string) error {
	return func(v string) error {
		if v != "" && !i18n.Supported(v) {
			return fmt.Errorf("must be %s or %s", i18n.Chinese, i18n.English)
		}
		*p = v
		return nil
	}
}

// languageFromEnvironment reads the POSIX locale variables: English for
// an en_* locale, otherwise Chinese (the console's first language).
func languageFromEnvironment(io IO) string {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v, _ := io.lookupEnv(name); v != "" {
			if strings.HasPrefix(strings.ToLower(v), "en") {
				return i18n.English
			}
			return i18n.Chinese
		}
	}
	return i18n.Chinese
}

// errNotConfirmed: the plan was not accepted, so nothing was called.
var errNotConfirmed = errors.New("not confirmed")

// checkCommand verifies the platform's answers, as Settings → Platform's
// "Verify answers" does: it says what it will call against the daily
// quotas, asks (a configured platform only, unless --yes), calls every
// read-only endpoint once, prints the report, keeps it for the console,
// and fails when an endpoint has a problem. It may run while the console
// runs on the same data directory: the embedded sandbox is read from its
// saved state and left as it is.
func checkCommand(ctx context.Context, args []string, io IO) error {
	o, err := parseCheck(args, io)
	if err != nil {
		return err
	}
	catalog, err := i18n.NewCatalog(o.conn.TimeZone)
	if err != nil {
		return err
	}
	loc := catalog.Localizer(o.lang)
	logger := newLogger(o.conn, io)
	d, err := openData(ctx, o.conn.Data)
	if err != nil {
		return err
	}
	defer d.Close()
	pc, err := platformConfig(d, o.conn, logger)
	if err != nil {
		return err
	}
	pc.Sandbox.ReadOnly, pc.Sandbox.ChangesPerMinute = true, 0
	pm, err := platform.Open(ctx, pc)
	if err != nil {
		return err
	}
	defer pm.Close()

	if st, err := pm.Status(ctx); err == nil && (st.Incomplete || st.SecretUnreadable) {
		// Settings were meant to name a platform: say why the sandbox is checked instead.
		fmt.Fprintln(io.Stdout, loc.T("check.target.incomplete"))
	}
	plan := pm.PlanVerification(ctx)
	printPlan(io.Stdout, loc, plan, pm.Sandbox())
	if !pm.Sandbox() && !o.yes && !confirmed(io, loc) {
		fmt.Fprintln(io.Stdout, loc.T("check.not_confirmed"))
		return errNotConfirmed
	}
	runCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	fmt.Fprintln(io.Stdout, loc.T("check.running"))
	rep, err := pm.VerifyAnswers(runCtx)
	if err != nil {
		return err
	}
	d.store.Audit(ctx, auditOfCheck(rep, pm))
	printReport(io.Stdout, loc, rep)
	problems, notes := len(rep.Problems()), len(rep.Notes())
	switch {
	case problems > 0:
		return errors.New(loc.T("check.failed", "Count", problems))
	case o.strict && notes > 0:
		return errors.New(loc.T("check.failed_notes", "Count", notes))
	}
	fmt.Fprintln(io.Stdout, loc.T("check.ok"))
	return nil
}

// confirmed asks whether to make the calls; only an explicit yes is one
// (an empty answer, or no terminal at all, is a no).
func confirmed(io IO, loc *i18n.Localizer) bool {
	fmt.Fprint(io.Stdout, loc.T("check.prompt"))
	line, err := bufio.NewReader(io.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(io.Stdout)
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes", "是":
		return true
	}
	return false
}

func printPlan(w io.Writer, loc *i18n.Localizer, p platform.VerifyPlan, sandbox bool) {
	if sandbox {
		fmt.Fprintln(w, loc.T("check.target.sandbox"))
	} else {
		fmt.Fprintln(w, loc.T("check.target.platform", "URL", p.BaseURL))
	}
	fmt.Fprintln(w, loc.T("check.plan.head", "Calls", loc.Number(int64(p.Calls())), "Reads", loc.Number(int64(len(p.Reads))), "Day", p.Day))
	width := keyWidth(p)
	for _, r := range p.Reads {
		var line string
		switch {
		case r.Disabled:
			line = loc.T("check.plan.disabled")
		case r.NothingToRead:
			line = loc.T("check.plan.nothing")
		case r.Calls == 0:
			line = loc.T("check.plan.quota_used", "Today", loc.Number(int64(r.CallsToday)), "Quota", loc.Number(int64(r.DailyQuota)))
		default:
			line = loc.T("check.plan.row", "Calls", loc.Number(int64(r.Calls)), "Today", loc.Number(int64(r.CallsToday)),
				"Quota", loc.Number(int64(r.DailyQuota)))
			if len(r.After) > 0 {
				line += loc.T("check.plan.after", "From", strings.Join(r.After, ", "))
			}
		}
		fmt.Fprintf(w, "  %-*s %s\n", width, r.Endpoint, line)
	}
	fmt.Fprintln(w, loc.T("check.plan.token"))
	fmt.Fprintln(w, loc.T("check.plan.writes", "Count", loc.Number(int64(len(p.Writes))), "Endpoints", strings.Join(p.Writes, ", ")))
}

func keyWidth(p platform.VerifyPlan) int {
	w := 0
	for _, r := range p.Reads {
		w = max(w, len(r.Endpoint))
	}
	return w
}

func printReport(w io.Writer, loc *i18n.Localizer, rep platform.VerifyReport) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, loc.T("check.report.head", "When", loc.DateTime(rep.At.Unix()), "URL", rep.BaseURL))
	width := len("oauth.refresh")
	for _, r := range rep.Reads {
		width = max(width, len(r.Endpoint))
	}
	line := func(r platform.VerifyResult) {
		fmt.Fprintf(w, "  %s %-*s %s\n", resultMark(r), width, r.Endpoint, loc.T("platform.verify.status."+string(r.Status)))
		if !r.Detail.IsZero() {
			fmt.Fprintf(w, "    %s\n", loc.Message(r.Detail))
		}
	}
	if rep.Token.Status.Problem() {
		line(rep.Token)
	} else {
		fmt.Fprintf(w, "  ✓ %s\n", loc.Message(rep.Token.Detail))
	}
	for _, r := range rep.Reads {
		line(r)
	}
	counts := rep.Counts()
	var parts []string
	for _, st := range platform.VerifyStatuses {
		if n := counts[st]; n > 0 {
			parts = append(parts, loc.T("platform.verify.status."+string(st))+" "+loc.Number(int64(n)))
		}
	}
	fmt.Fprintln(w, loc.T("check.report.summary", "Counts", strings.Join(parts, " · ")))
}

// resultMark is a result's mark in the printed report.
func resultMark(r platform.VerifyResult) string {
	switch {
	case r.Status.Problem():
		return "✗"
	case r.NoMeta:
		return "!"
	case r.Status == platform.VerifyUnderstood:
		return "✓"
	}
	return "–"
}

// auditOfCheck records the verification, made from the command line.
func auditOfCheck(rep platform.VerifyReport, pm *platform.Manager) db.AuditEntry {
	e := db.AuditEntry{Action: "platform.verify", Object: "platform", Username: "cli",
		Summary: msg.New("audit.summary.verify_cli", msg.Nested("Counts", rep.SummaryMessage()), msg.Str("Connection", pm.Connection())).Encode()}
	if len(rep.Problems()) > 0 {
		e.Outcome = db.OutcomeFailed
	}
	return e
}
