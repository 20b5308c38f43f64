package testkit

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// PipeListener is a net.Listener whose connections are in memory
// (net.Pipe). A server and clients on it inside a testing/synctest bubble
// wait on channels the bubble knows, so synctest.Wait can tell when all of
// them wait; on a loopback socket they wait in the kernel, which it cannot.
// Make it inside the bubble.
type PipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

// NewPipeListener is a listener with no connection yet.
func NewPipeListener() *PipeListener {
	return &PipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Accept waits for the next Dial.
func (l *PipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close refuses further connections; those made stay open.
func (l *PipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr is the same for every PipeListener.
func (l *PipeListener) Addr() net.Addr { return pipeAddr{} }

// Dial connects to the listener, whatever the address.
func (l *PipeListener) Dial(context.Context, string, string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Client is an HTTP client whose every request goes to the listener.
func (l *PipeListener) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: l.Dial}}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
