package app

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A setting is one configuration value, defined once: the flag that sets
// it, the environment variable that sets it, its default, how its text is
// read and checked, and its help. Flags, `-h` and the environment all come
// from this one definition, so a value is read, and refused, the same way
// wherever it comes from; a test holds README's Configuration table to
// the serve command's list.
type setting struct {
	flag string // without dashes; "" for a value only the environment gives (a secret)
	env  string // JINGDESK_…; "" for a flag of one command only
	def  string // the default, as it would be typed; "" for none
	help string // the flag's line in -h
	// set reads one value and stores it. Its error says what a valid value
	// looks like; the caller names the flag or the variable and the value.
	set    func(string) error
	isBool bool // a flag given without a value (--behind-proxy)
	secret bool // its value is never repeated in a message
}

// loadSettings gives each setting its value: its default, then the
// environment's, then the command line's (so a flag beats its variable),
// and parses the command's other flags, registered on fs beforehand. A
// variable that is set must read as its flag would, even when a flag
// overrides it: every such mistake is reported, each naming its variable.
func loadSettings(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool), settings []setting) error {
	for i := range settings {
		s := &settings[i]
		if err := s.set(s.def); err != nil {
			panic(fmt.Sprintf("app: the default of %s does not read: %v", s.name(), err))
		}
		if s.flag != "" {
			fs.Var(settingFlag{s}, s.flag, s.usage())
		}
	}
	var problems []error
	for _, s := range settings {
		if s.env == "" {
			continue
		}
		// Empty counts as unset, as systemd's `Environment=NAME=` means.
		if v, ok := lookupEnv(s.env); ok && v != "" {
			if err := s.set(v); err != nil {
				problems = append(problems, s.refuse("environment variable "+s.env, v, err))
			}
		}
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errors.Join(problems...)
}

// name is how a message names the setting: its flag, or its variable.
func (s *setting) name() string {
	if s.flag != "" {
		return "--" + s.flag
	}
	return s.env
}

// usage is the setting's line in -h: its help and its variable.
func (s *setting) usage() string {
	if s.env == "" {
		return s.help
	}
	return s.help + " (env " + s.env + ")"
}

// refuse is the error for a value that does not read, worded as the flag
// package words a bad flag's.
func (s *setting) refuse(where, value string, err error) error {
	if s.secret {
		return fmt.Errorf("invalid value for %s: %w", where, err)
	}
	return fmt.Errorf("invalid value %q for %s: %w", value, where, err)
}

// settingFlag makes a setting a flag.Value.
type settingFlag struct{ s *setting }

// String is the default -h shows (the flag package also calls it on a
// zero settingFlag, to tell whether a default is worth showing).
func (f settingFlag) String() string {
	if f.s == nil || (f.s.isBool && f.s.def == "false") {
		return ""
	}
	return f.s.def
}

func (f settingFlag) Set(v string) error { return f.s.set(v) }
func (f settingFlag) IsBoolFlag() bool   { return f.s != nil && f.s.isBool }

// lookup picks settings by flag (or variable) from a command's list, for
// a command that shares some of another's.
func lookup(all []setting, names ...string) []setting {
	var out []setting
	for _, n := range names {
		for _, s := range all {
			if s.flag == n || (s.flag == "" && s.env == n) {
				out = append(out, s)
			}
		}
	}
	if len(out) != len(names) {
		panic(fmt.Sprintf("app: settings %v not all defined", names))
	}
	return out
}

// --- readers: each stores a valid value, or says what one looks like ---

func anyText(p *string) func(string) error {
	return func(v string) error { *p = v; return nil }
}

func nonEmpty(p *string) func(string) error {
	return func(v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		*p = v
		return nil
	}
}

func oneOf(p *string, choices ...string) func(string) error {
	return func(v string) error {
		for _, c := range choices {
			if v == c {
				*p = v
				return nil
			}
		}
		return fmt.Errorf("must be %s", orList(choices))
	}
}

// orList is "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func logLevel(p *slog.Level) func(string) error {
	return func(v string) error {
		switch strings.ToLower(v) {
		case "debug":
			*p = slog.LevelDebug
		case "info":
			*p = slog.LevelInfo
		case "warn":
			*p = slog.LevelWarn
		case "error":
			*p = slog.LevelError
		default:
			return errors.New("must be debug, info, warn or error")
		}
		return nil
	}
}

func boolean(p *bool) func(string) error {
	return func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false (1 or 0)")
		}
		*p = b
		return nil
	}
}

// duration reads a Go duration of at least min; with zeroOff, 0 is also
// accepted and means "off".
func duration(p *time.Duration, min time.Duration, zeroOff bool) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		switch {
		case err == nil && zeroOff && d == 0:
		case err != nil || d < min:
			also := ""
			if zeroOff {
				also = ", or 0 for none"
			}
			return fmt.Errorf("must be a duration such as 90s, 5m or 6h, at least %s%s", shortDuration(min), also)
		}
		*p = d
		return nil
	}
}

func wholeNumber(p *int64, min, max int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min || n > max {
			return fmt.Errorf("must be a whole number from %d to %d", min, max)
		}
		*p = n
		return nil
	}
}

func anyInt(p *int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errors.New("must be a whole number")
		}
		*p = n
		return nil
	}
}

func nonNegative(p *float64) func(string) error {
	return func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New("must be a number, 0 or more")
		}
		*p = f
		return nil
	}
}

// hostPort reads a listen address; with optional, "" means none.
func hostPort(p *string, optional bool) func(string) error {
	return func(v string) error {
		if v == "" && optional {
			*p = v
			return nil
		}
		_, port, err := net.SplitHostPort(v)
		if n, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || (n == 0 && port != "0") {
			return errors.New("must be HOST:PORT, such as 127.0.0.1:8080 or 0.0.0.0:8080")
		}
		*p = v
		return nil
	}
}

// webURL reads an http:// or https:// address; "" means none.
func webURL(p *string, example string) func(string) error {
	return func(v string) error {
		if v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("must be an http:// or https:// address, such as %s", example)
			}
		}
		*p = v
		return nil
	}
}

func timeZone(p **time.Location) func(string) error {
	return func(v string) error {
		zone, err := time.LoadLocation(v)
		if err != nil || v == "" {
			return errors.New("must be a time zone name such as Asia/Shanghai or UTC")
		}
		*p = zone
		return nil
	}
}

// shortDuration writes a duration as it would be typed: 6h, not 6h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
