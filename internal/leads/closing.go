package leads

import (
	"context"
	"sync"
	"time"
)

// closingMemo remembers ClosingStatus's answers while the copy, the
// reference data and the connection are unchanged. The list's bulk bar asks it for every status of every
// pipeline on every page, one query each: under 50 connections of list
// pages that was a fifth of the server's CPU (issue 18).
type closingMemo struct {
	mu      sync.Mutex
	version [2]int64 // db.Store.LeadsVersion and RefVersion when kept
	conn    string
	known   map[[2]string]bool // business type, status
}

// ClosingStatus reports whether a status closes the lead (its name is 无效
// or 已转化 in the reference data, or the platform gives the leads in it
// the lifecycle stage invalid or customer): the board asks for a note
// first. Unknown statuses are not closing. Pages ask this; a move checks
// afresh (closingNow).
func (s *Service) ClosingStatus(businessType, status string) bool {
	key := [2]string{businessType, status}
	version, conn := [2]int64{s.store.LeadsVersion(), s.store.RefVersion()}, s.connection()
	m := &s.closing
	m.mu.Lock()
	if m.version != version || m.conn != conn || m.known == nil {
		m.version, m.conn, m.known = version, conn, map[[2]string]bool{}
	}
	closing, ok := m.known[key]
	m.mu.Unlock()
	if ok {
		return closing
	}
	closing, err := s.lookUpClosing(businessType, status)
	if err != nil {
		return false // not remembered: the next page asks again
	}
	m.mu.Lock()
	if m.version == version && m.conn == conn {
		m.known[key] = closing
	}
	m.mu.Unlock()
	return closing
}

// closingNow asks the copy and the reference data; a failure counts as
// not closing (and is logged).
func (s *Service) closingNow(businessType, status string) bool {
	closing, _ := s.lookUpClosing(businessType, status)
	return closing
}

func (s *Service) lookUpClosing(businessType, status string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	closing, err := s.store.LeadStatusClosing(ctx, s.connection(), businessType, status)
	if err != nil {
		s.log.Warn("look up whether a lead status closes the lead", "status", status, "error", err)
	}
	return closing, err
}
