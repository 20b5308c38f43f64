package leads

import (
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"13812345678", "138****5678"},
		{"+8613812345678", "+86*******5678"},
		{"1234567", "****"},
		{"12345678", "123*5678"},
		{"zhang@example.cn", "z***@example.cn"},
		{"张三@例子.cn", "张***@例子.cn"},
		{"@example.cn", "***@example.cn"},
		{"a@b", "a***@b"},
	} {
		got := Mask(tc.in)
		if got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if tc.in != "" && got == tc.in {
			t.Errorf("Mask(%q) left it whole", tc.in)
		}
		if at := strings.IndexByte(tc.in, '@'); at < 0 && len(tc.in) >= 8 && strings.Contains(got, tc.in[3:len(tc.in)-4]) {
			t.Errorf("Mask(%q) = %q shows the middle", tc.in, got)
		}
	}
}
