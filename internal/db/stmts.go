package db

import (
	"context"
	"database/sql"
	"sync"
)

// framed keeps the read pool's prepared statements of the queries every
// page runs around its content (the navigation's badges, the saved
// views). Under 50 connections of list and board pages, preparing them
// anew (SQLite parses and plans each call, and re-plans on the first step
// once planner statistics exist) was 5-7 % of the server's CPU (issue 18).
// Only queries whose text comes from a small fixed set belong here: every
// kept statement holds a compiled program on each connection.
type framed struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// framedStmt is q prepared on the read pool, once.
func (s *Store) framedStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.framed.mu.Lock()
	defer s.framed.mu.Unlock()
	if st, ok := s.framed.m[q]; ok {
		return st, nil
	}
	st, err := s.read.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if s.framed.m == nil {
		s.framed.m = map[string]*sql.Stmt{}
	}
	s.framed.m[q] = st
	return st, nil
}

func (s *Store) closeFramed() {
	s.framed.mu.Lock()
	defer s.framed.mu.Unlock()
	for _, st := range s.framed.m {
		st.Close()
	}
	s.framed.m = nil
}
