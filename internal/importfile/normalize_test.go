package importfile

import (
	"reflect"
	"testing"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		role, raw, value, reason string
	}{
		{ColMobile, "+86 138-0013-8000", "13800138000", ""},
		{ColMobile, "0086 13800138000", "13800138000", ""},
		{ColMobile, "8613800138000", "13800138000", ""},
		{ColMobile, "１３８００１３８０００", "13800138000", ""},
		{ColMobile, "13800138000.0", "13800138000", ""},
		{ColMobile, "1.3800138000E+10", "13800138000", ""},
		{ColMobile, "1.3800138000e10", "13800138000", ""},
		{ColMobile, "1.38001380000E+10", "13800138000", ""}, // a digit more, a zero
		{ColMobile, "1.3800138E+10", "", ReasonMobileRounded},
		{ColMobile, "1.35001E+10", "", ReasonMobileRounded},
		{ColMobile, "1.38E+10", "", ReasonMobileRounded},
		{ColMobile, "(138) 0013 8000", "13800138000", ""},
		{ColMobile, "12345678901", "", ReasonMobileFormat},
		{ColMobile, "1380013800", "", ReasonMobileFormat},
		{ColMobile, "1.38E+9", "", ReasonMobileRounded},
		{ColMobile, "1.380013800E+9", "", ReasonMobileFormat}, // exact, but 10 digits
		{ColMobile, "1.38001380001E+10", "", ReasonMobileFormat},
		{ColMobile, "861380013800", "", ReasonMobileFormat},
		{ColMobile, "abc", "", ReasonMobileFormat},
		{ColMobile, "   ", "", ReasonEmpty},
		{ColEmail, "  Foo.Bar@Example.COM ", "foo.bar@example.com", ""},
		{ColEmail, "ｆｏｏ＠ｅｘａｍｐｌｅ．ｃｎ", "foo@example.cn", ""},
		{ColEmail, "a@b", "", ReasonEmailFormat},
		{ColEmail, "a b@c.com", "", ReasonEmailFormat},
		{ColEmail, "@c.com", "", ReasonEmailFormat},
		{ColEmail, "a@@c.com", "", ReasonEmailFormat},
		{ColEmail, "a@c.c", "", ReasonEmailFormat},
		{ColEmail, "a@c..com", "", ReasonEmailFormat},
		{ColEmail, "a@c_d.com", "", ReasonEmailFormat},
		{ColEmail, "", "", ReasonEmpty},
		{ColUUID, " 3f2b8c1e-1234-4abc-9def-0123456789ab ", "3f2b8c1e-1234-4abc-9def-0123456789ab", ""},
		{ColOpenID, "oAbC_123-xyz", "oAbC_123-xyz", ""},
		{ColUnionID, "short", "", ReasonIDFormat},
		{ColUnionID, "o6_bmasdasdsad6_2sgVt7hMZOPfL", "o6_bmasdasdsad6_2sgVt7hMZOPfL", ""},
		{ColOpenID, "has space 123", "", ReasonIDFormat},
		{ColOpenID, "中文中文中文中文", "", ReasonIDFormat},
		{ColName, " 张三 ", "张三", ""},
	}
	for _, tt := range tests {
		v, reason := Normalize(tt.role, tt.raw)
		if v != tt.value || reason != tt.reason {
			t.Errorf("Normalize(%s, %q) = %q, %q; want %q, %q", tt.role, tt.raw, v, reason, tt.value, tt.reason)
		}
	}
}

func TestAutoMap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header, want []string
	}{
		{
			[]string{"手机号码", "邮箱", "姓名", "电话", "备注"},
			[]string{ColMobile, ColEmail, ColName, ColIgnore, ColIgnore},
		},
		{
			[]string{"Mobile Phone", "E-mail", "OMNI_USER_UUID", "微信OpenID", "wechat-unionid", "客户姓名"},
			[]string{ColMobile, ColEmail, ColUUID, ColOpenID, ColUnionID, ColName},
		},
		{
			[]string{" ｍｏｂｉｌｅ ", "Ｅｍａｉｌ", "用户ID", "openid", "unionId", "名字", "Email"},
			[]string{ColMobile, ColEmail, ColUUID, ColOpenID, ColUnionID, ColName, ColIgnore},
		},
		{
			[]string{"cellphone", "联系电话", "uuid", "邮件", "电子邮箱"},
			[]string{ColMobile, ColIgnore, ColUUID, ColEmail, ColIgnore},
		},
		{nil, []string{}},
	}
	for _, tt := range tests {
		if got := AutoMap(tt.header); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("AutoMap(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestEmptyRecord(t *testing.T) {
	t.Parallel()
	if !EmptyRecord(nil) || !EmptyRecord([]string{"", " ", "\t"}) || EmptyRecord([]string{"", "x"}) {
		t.Error("EmptyRecord")
	}
}
