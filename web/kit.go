package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/db"
	"github.com/jingdesk/jingdesk/internal/platform"
)

// kit is what every area's handlers share. An area embeds *kit, so its
// handlers say a.render(c, status, View{…}), a.renderFragment(c, …),
// a.audit(c, entry), a.log(c) and a.now(). What a request knows about its
// visitor (currentUser, t for its language, csrfToken, addFlash) is read
// from the echo context by package functions, not held here.
type kit struct {
	logger *slog.Logger
	now    func() time.Time
	store  kitStore
	// approvals counts the sends waiting for the reader's approval (the nav badge).
	approvals approvalCounter
	chrome    pageChrome
	// version is shown at the foot of the sidebar.
	version string
	// behindProxy trusts a proxy's forwarded scheme (publicBase).
	behindProxy bool
}

// kitStore is what the kit itself writes and reads: the audit log, and
// the count behind the imports badge every full page shows.
type kitStore interface {
	Audit(ctx context.Context, e db.AuditEntry) error
	ImportsBadge(ctx context.Context, userID int64) (unseenFinished, running int, err error)
}

// approvalCounter is internal/sends' count behind the approvals badge.
type approvalCounter interface {
	ApprovalsForYou(ctx context.Context, user *db.User) (int, error)
}

// pageChrome is what every full page shows of the platform connection:
// the Sandbox banner and the endpoints that failed verification.
type pageChrome interface {
	Sandbox() bool
	VerificationFailures(ctx context.Context, f platform.Feature) (platform.VerifyReport, []platform.VerifyResult)
}

// log returns the request's logger (it carries the request id).
func (k *kit) log(c echo.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger).(*slog.Logger); ok {
		return l
	}
	return k.logger
}

// audit records an entry with the request's who/where filled in. An audit
// failure is logged, never shown: the user's action already happened.
func (k *kit) audit(c echo.Context, e db.AuditEntry) {
	if u := currentUser(c); u != nil && e.UserID == 0 {
		e.UserID, e.Username = u.ID, u.Username
	}
	e.RemoteAddr = c.RealIP()
	e.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	if err := k.store.Audit(c.Request().Context(), e); err != nil {
		k.log(c).Error("write audit log", "action", e.Action, "error", err)
	}
}

// publicBase is the console's address as the browser reached it: scheme
// and host of the request (behind a trusted proxy, its forwarded scheme).
func (k *kit) publicBase(c echo.Context) string {
	scheme := "http"
	if c.Request().TLS != nil {
		scheme = "https"
	}
	if k.behindProxy {
		scheme = c.Scheme()
	}
	return scheme + "://" + c.Request().Host
}

// pathID is the :id path parameter, a positive number (or a 404).
func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return id, nil
}

// pathUUID is the :uuid path parameter, a platform id of sensible length
// (or a 404).
func pathUUID(c echo.Context) (string, error) {
	uuid := c.Param("uuid")
	if uuid == "" || len(uuid) > boardIDMax {
		return "", echo.NewHTTPError(http.StatusNotFound, errNotFound)
	}
	return uuid, nil
}
