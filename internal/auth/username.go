package auth

import (
	"strings"
	"unicode/utf8"

	"github.com/jingdesk/jingdesk/internal/i18n/msg"
)

// ErrUsernameLength and ErrUsernameChars refuse a new account's username.
var (
	ErrUsernameLength = msg.Refuse(msg.Invalid, "user.error.username_length").On("username")
	ErrUsernameChars  = msg.Refuse(msg.Invalid, "user.error.username_chars").On("username")
)

// CheckUsername validates a new account's username: 2 to 64 characters,
// none of them a space, a slash or a colon (the audit log names accounts
// "user:<name>", and a name must survive being typed on a command line).
func CheckUsername(name string) error {
	if n := utf8.RuneCountInString(name); n < 2 || n > 64 {
		return ErrUsernameLength
	}
	if strings.ContainsAny(name, " \t\r\n/\\:") {
		return ErrUsernameChars
	}
	return nil
}
