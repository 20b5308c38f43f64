package jing

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// ProbeStatus is what a probe learned about one catalog entry.
type ProbeStatus string

const (
	// ProbeReachable: the platform knows the method (it answered, perhaps
	// refusing the empty body, which proves the path is right).
	ProbeReachable ProbeStatus = "reachable"
	// ProbePathNotFound: the platform has no method at this path; the
	// catalog entry needs correcting.
	ProbePathNotFound ProbeStatus = "path_not_found"
	// ProbeNotPermitted: the method exists but this tenant or IP may not use it.
	ProbeNotPermitted ProbeStatus = "not_permitted"
	// ProbeAuthFailed: no token could be obtained, or the platform refused it.
	ProbeAuthFailed ProbeStatus = "auth_failed"
	// ProbeLimited: the rate limit or the day's quota stopped the probe.
	ProbeLimited ProbeStatus = "limited"
	// ProbeUnavailable: the platform or the network failed; nothing was learned.
	ProbeUnavailable ProbeStatus = "unavailable"
	// ProbeDisabled: the catalog disables the entry, so it was not called.
	ProbeDisabled ProbeStatus = "disabled"
	// ProbeUnrecognised: something answered, but not as the platform does
	// (no code, an unknown one, HTML, an HTTP error status): see Err.
	ProbeUnrecognised ProbeStatus = "unrecognised"
)

// ProbeResult is one line of the "Check endpoints" table.
type ProbeResult struct {
	Endpoint  Endpoint
	Status    ProbeStatus
	Code      int    // the platform's code, 0 when it did not answer
	Msg       string // the platform's own text
	RequestID string
	Duration  time.Duration
	// Err is the failure behind a status other than reachable and disabled
	// (a *Error when it came from the platform or the token).
	Err error
}

// Probe sends entry key one harmless request and classifies the answer.
// List calls ask for one item of the first page; every other call gets an
// empty body, which the platform refuses (40001) without acting. The probe
// is not retried, not audited and not counted in Stats (its refusals are
// expected), but it is paced and counted against the daily quota like any
// call. An access token the platform calls invalid is renewed once, as
// every call does, so a stale stored token cannot pass for bad credentials.
func (c *Client) Probe(ctx context.Context, key string) ProbeResult {
	ep, ok := c.cfg.Catalog.Get(key)
	if !ok {
		return ProbeResult{Endpoint: Endpoint{Key: key}, Status: ProbePathNotFound}
	}
	if ep.Disabled {
		return ProbeResult{Endpoint: ep, Status: ProbeDisabled}
	}
	start := time.Now()
	env, err := c.probeOnce(ctx, ep)
	r := classifyProbe(ep, env, err)
	r.Duration = time.Since(start)
	return r
}

// probeBody is the harmless request for ep.
func probeBody(ep Endpoint) []byte {
	if strings.HasSuffix(ep.Key, ".list") {
		b, _ := json.Marshal(PageRequest{Page: 1, PerPage: 1})
		return b
	}
	return []byte("{}")
}

// tokenError marks a failure to obtain a token, as opposed to the probed call's own answer.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "obtain token: " + e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

func (c *Client) probeOnce(ctx context.Context, ep Endpoint) (envelope, error) {
	token := ""
	if !isOAuth(ep.Key) {
		var err error
		if token, err = c.accessToken(ctx); err != nil {
			return envelope{}, &tokenError{err}
		}
	}
	env, err := c.attempt(ctx, ep, probeBody(ep), token)
	if kind, _ := classify(int(env.Code), env.text()); err != nil || isOAuth(ep.Key) || kind != KindAuth {
		return env, err
	}
	if token, err = c.renewToken(ctx, token); err != nil {
		return envelope{}, &tokenError{err}
	}
	return c.attempt(ctx, ep, probeBody(ep), token)
}

// classifyProbe turns the probe's outcome into a status.
func classifyProbe(ep Endpoint, env envelope, err error) ProbeResult {
	r := ProbeResult{Endpoint: ep, Code: int(env.Code), Msg: env.text(), RequestID: env.RequestID}
	if err != nil {
		r.Status, r.Err = probeFailure(ep, err), probeError(ep, err)
		return r
	}
	switch r.Code {
	case CodeOK, CodeMissingParameter, CodeBusinessFailed:
		r.Status = ProbeReachable
		return r
	}
	kind, cs := classify(r.Code, r.Msg)
	r.Err = &Error{Endpoint: ep.Key, Kind: kind, Case: cs, Code: r.Code, Msg: r.Msg, RequestID: r.RequestID}
	switch kind {
	case KindInvalidPath:
		r.Status = ProbePathNotFound
	case KindPermission:
		r.Status = ProbeNotPermitted
	case KindAuth:
		r.Status = ProbeAuthFailed
	case KindRateLimited, KindQuota:
		r.Status = ProbeLimited
	case KindTransient:
		r.Status = ProbeUnavailable
	default:
		// 40002 about a parameter, or a code we do not know: either way the
		// platform answered from a method that exists.
		r.Status, r.Err = ProbeReachable, nil
	}
	return r
}

// probeError is the failure as an *Error where one can be had, so callers
// can show its Message rather than transport text.
func probeError(ep Endpoint, err error) error {
	var te *tokenError
	if errors.As(err, &te) {
		err = te.err
	}
	if _, ok := AsError(err); ok {
		return err
	}
	return &Error{Endpoint: ep.Key, Kind: KindTransient, Err: err}
}

// probeFailure classifies a probe that got no envelope back.
func probeFailure(ep Endpoint, err error) ProbeStatus {
	var te *tokenError
	if errors.As(err, &te) {
		if IsKind(te.err, KindTransient) || IsKind(te.err, KindRateLimited) {
			return ProbeUnavailable
		}
		return ProbeAuthFailed
	}
	if e, ok := AsError(err); ok {
		switch e.Kind {
		case KindQuota, KindRateLimited:
			return ProbeLimited
		case KindInvalidPath: // 40002 "non-existent method name", or an HTTP 404
			return ProbePathNotFound
		case KindUnrecognised:
			return ProbeUnrecognised
		}
	}
	return ProbeUnavailable
}
