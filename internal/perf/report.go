package perf

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

func ms(d time.Duration) string {
	v := float64(d.Microseconds()) / 1000
	switch {
	case v < 1:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func kb(n int) string { return fmt.Sprintf("%.1f", float64(n)/1024) }

// Markdown writes the report as the tables of docs/performance.md.
func (rep *Report) Markdown(w io.Writer, command string) {
	if rep.Soak != nil {
		rep.soakMarkdown(w, command)
		return
	}
	fmt.Fprintf(w, "%d leads, `%s`; the console started in %s", rep.Leads, command, rep.Start.Round(time.Millisecond))
	if rep.ScaleFrom > 0 && rep.ScaleFrom < rep.Leads {
		fmt.Fprintf(w, " (the copy is the %d leads synced from the sandbox, with their scores, repeated under new uuids to %d: perf.ScaledCopy)",
			rep.ScaleFrom, rep.Leads)
	} else if rep.Built {
		fmt.Fprint(w, " (the copy was synced from the sandbox for this run)")
	}
	fmt.Fprintf(w, ".\nOne connection, each page asked %d times, the median and the slowest; every request a **cache miss** "+
		"(a path never asked before in the run) unless the row says **cache hit**. Whole requests over loopback, "+
		"gzip asked for, the answer read to its end. The machine's load average (1 min, %d cores): %s when the pages "+
		"were measured, %s after the load run.\n\n", rep.Rounds, runtime.NumCPU(), rep.LoadAvg[0], rep.LoadAvg[1])
	fmt.Fprintln(w, "| Page | Cache | Median ms | Slowest ms | KB (on the wire) | Target ms | |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
	for _, m := range rep.Pages {
		cache := "miss"
		if m.Hit {
			cache = "**hit**"
		} else if m.Group == "static" {
			cache = "—"
		}
		if m.Err != nil {
			fmt.Fprintf(w, "| %s | %s | error: %s | | | | |\n", m.Name, cache, strings.ReplaceAll(m.Err.Error(), "|", "/"))
			continue
		}
		target, verdict := "", ""
		if m.Target > 0 {
			target = fmt.Sprintf("%.0f", m.Target)
			verdict = "met"
			if float64(m.Median().Microseconds())/1000 > m.Target {
				verdict = "**over**"
			}
		}
		name := m.Name
		if len(m.Times) < rep.Rounds {
			name += fmt.Sprintf(" (asked %d times: every path it draws)", len(m.Times))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s (%s) | %s | %s |\n", name, cache, ms(m.Median()), ms(m.Slowest()),
			kb(m.Bytes), kb(m.Wire), target, verdict)
	}
	if rep.LoadFor <= 0 {
		return
	}
	ld := rep.Load
	fmt.Fprintf(w, "\nMixed load: %d connections for %s of board, list and scores pages with random filters "+
		"(%d board, %d list, %d scores requests; no board path asked twice, so **no cache hit**), then the stylesheet "+
		"over %d connections for as long, from the same process in the same run:\n\n",
		ld.Conns, ld.For, ld.PagesByGroup["board"], ld.PagesByGroup["list"], ld.PagesByGroup["scores"], ld.Conns)
	fmt.Fprintln(w, "| Target | Requests/s | p50 ms | p99 ms | Errors | Server CPU ms per request |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for _, row := range []struct {
		name string
		f    LoadFigures
	}{{"Board, list and scores pages, uncached", ld.Pages}, {"Static file (app.css)", ld.Static}} {
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %d | %s |\n", row.name, row.f.PerSecond, ms(row.f.P50), ms(row.f.P99), row.f.Errors, ms(row.f.CPUPerRequest()))
	}
	if ld.Static.PerSecond > 0 {
		ratio := ld.Pages.PerSecond / ld.Static.PerSecond
		verdict := "met"
		if ratio < 0.20 {
			verdict = "**not met**"
		}
		fmt.Fprintf(w, "\nPages at **%.2f** of the static file's rate (target ≥ 0.20: %s).\n", ratio, verdict)
		if per := ld.Pages.CPUPerRequest(); per > 0 {
			cores := runtime.NumCPU()
			fmt.Fprintf(w, "The server spent %s ms of processor time per page: its %d cores, were it alone on them, could answer at most %.0f pages/s; "+
				"0.20 of this run's static rate (%.0f/s) needs %.2f ms a page or less.\n",
				ms(per), cores, float64(cores)*float64(time.Second)/float64(per), 0.2*ld.Static.PerSecond,
				float64(cores)*1000/(0.2*ld.Static.PerSecond))
		}
	}
	mem := rep.Memory
	fmt.Fprintf(w, "\nThe server's resident memory (RSS): %.0f MB idle after start (quiet for %s), %.0f MB after the pages, %.0f MB right after the load, "+
		"peak %.0f MB, %.0f MB once quiet again (the sandbox runs in the harness's process, not the server's).\n",
		mem.Idle, quietWait, mem.AfterPages, mem.AfterLoad, mem.Peak, mem.Quiet)
}
