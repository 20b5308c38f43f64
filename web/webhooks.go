package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jingdesk/jingdesk/internal/webhooks"
)

// receiveWebhook is the platform's webhook: POST /webhooks/jing/<secret>.
// The secret in the path is the only credential (the platform signs
// nothing), so a wrong one is a plain 404, counted. The event is stored
// first and applied after: the answer comes in milliseconds. Nothing here
// answers 500: a body that cannot be stored is a 503, so the platform
// sends it again.
func (s *Server) receiveWebhook(c echo.Context) error {
	ctx := c.Request().Context()
	if s.Webhooks == nil || !s.Webhooks.Accepts(ctx, c.Param("secret")) {
		return c.NoContent(http.StatusNotFound)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, webhooks.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return c.JSON(http.StatusRequestEntityTooLarge, webhookAnswer{Code: http.StatusRequestEntityTooLarge, Msg: "body larger than 1 MB"})
	case err != nil:
		return c.JSON(http.StatusBadRequest, webhookAnswer{Code: http.StatusBadRequest, Msg: "the body could not be read"})
	}
	_, err = s.Webhooks.Receive(ctx, body)
	switch {
	case errors.Is(err, webhooks.ErrUnreadable):
		return c.JSON(http.StatusBadRequest, webhookAnswer{Code: http.StatusBadRequest, Msg: "not a webhook event; kept for inspection"})
	case err != nil:
		s.log(c).Error("store a webhook event", "error", err)
		return c.JSON(http.StatusServiceUnavailable, webhookAnswer{Code: http.StatusServiceUnavailable, Msg: "not stored; send it again"})
	}
	return c.JSON(http.StatusOK, webhookAnswer{Code: 0, Msg: "ok"})
}

type webhookAnswer struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}
