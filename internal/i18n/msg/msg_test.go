package msg

import (
	"errors"
	"fmt"
	"testing"
)

var errNoName = Refuse(Invalid, "sends.error.no_name").On("name")

func TestARefusalIsASentinelAndCarriesItsMessage(t *testing.T) {
	t.Parallel()
	wrapped := fmt.Errorf("sends: create: %w", errNoName)
	if !errors.Is(wrapped, errNoName) {
		t.Fatal("errors.Is does not find the sentinel through a wrap")
	}
	e, ok := AsError(wrapped)
	if !ok || e.Kind != Invalid || e.Field != "name" || e.Msg.ID != "sends.error.no_name" {
		t.Fatalf("AsError: %+v %v", e, ok)
	}
	if m := FromError(wrapped); m.ID != "sends.error.no_name" {
		t.Fatalf("FromError reads %q, not the refusal's message", m.ID)
	}
	if errNoName.Field != "name" || Refuse(Invalid, "x").On("a").Field != "a" {
		t.Fatal("On does not set the field")
	}
}

func TestBecauseKeepsTheLowerError(t *testing.T) {
	t.Parallel()
	lower := errors.New("db: job state")
	r := Refuse(Conflict, "jobs.error.state", Nested("State", New("jobs.state.done"))).Because(lower)
	if !errors.Is(r, lower) {
		t.Fatal("the cause is not seen by errors.Is")
	}
	if got := r.Error(); got != "conflict: jobs.error.state State=jobs.state.done" {
		t.Fatalf("Error() = %q", got)
	}
	if got := Refuse(Invalid, "user.error.password_short", Int("Min", 12)).On("password").Error(); got != "invalid: user.error.password_short Min=12 (field password)" {
		t.Fatalf("Error() = %q", got)
	}
}
