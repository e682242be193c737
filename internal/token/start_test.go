package token

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckScopes(t *testing.T) {
	t.Parallel()
	many := strings.Split(strings.Repeat("merchant_order,", MaxScopes+1), ",")[:MaxScopes+1]
	for name, tc := range map[string]struct {
		scopes []string
		field  string // first violation's field; "" = valid
	}{
		"valid":        {[]string{"merchant_order", "user_info"}, ""},
		"none":         {nil, "scopes"},
		"too_many":     {many, "scopes"},
		"space":        {[]string{"merchant_order", "a b"}, "scopes[1]"},
		"upper_case":   {[]string{"Merchant_Order"}, "scopes[0]"},
		"too_long":     {[]string{strings.Repeat("a", 65)}, "scopes[0]"},
		"oversized":    {[]string{strings.Repeat("a", 28000)}, "scopes[0]"},
		"empty_name":   {[]string{""}, "scopes[0]"},
		"newline":      {[]string{"merchant_order\n"}, "scopes[0]"},
		"duplicate":    {[]string{"merchant_order", "merchant_item", "merchant_order"}, "scopes[2]"},
		"longest_name": {[]string{strings.Repeat("a", 64)}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			vs := CheckScopes(tc.scopes)
			if tc.field == "" {
				if len(vs) != 0 {
					t.Fatalf("valid scopes refused: %v", vs)
				}
				return
			}
			if len(vs) == 0 || vs[0].Field != tc.field {
				t.Fatalf("violations %v, want field %s", vs, tc.field)
			}
			for _, v := range vs {
				if len(v.Reason) > 200 {
					t.Fatalf("reason repeats the input: %.80s…", v.Reason)
				}
			}
		})
	}
}

func TestParseReturnHosts(t *testing.T) {
	t.Parallel()
	got, err := ParseReturnHosts(" app.example.com, shop.example.com:8443,[::1]:9000 ,")
	if err != nil || len(got) != 3 {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"https://app.example.com", "app.example.com/path", "*.example.com", "user@app.example.com", "app.example.com:port", "::1", "a b"} {
		if _, err := ParseReturnHosts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestManager_CheckReturnURL(t *testing.T) {
	t.Parallel()
	rules := func(hosts []string, redirect string) *Manager {
		r, err := returnHostRules(hosts, []string{redirect})
		if err != nil {
			t.Fatal(err)
		}
		return &Manager{returnHosts: r}
	}
	byDefault := rules(nil, "https://gw.example.com/oauth/callback")
	configured := rules([]string{"App.Example.com.", "shop.example.com:8443", "[::1]:9000"}, "https://gw.example.com/oauth/callback")
	for _, tc := range []struct {
		m    *Manager
		url  string
		want string // "" = refused
	}{
		{byDefault, "https://gw.example.com/done?x=1", "https://gw.example.com/done?x=1"},
		{byDefault, "http://gw.example.com:8080/done", "http://gw.example.com:8080/done"},
		{byDefault, "HTTPS://GW.example.com/done", "https://GW.example.com/done"},
		{byDefault, "https://evil.example/", ""},
		{byDefault, "https://gw.example.com.evil.example/", ""},
		{byDefault, "https://evil.example@gw.example.com/", ""},
		{byDefault, "javascript:alert(1)", ""},
		{byDefault, "javascript://gw.example.com/%0aalert(1)", ""},
		{byDefault, "data:text/html,x", ""},
		{byDefault, "//gw.example.com/done", ""},
		{byDefault, "/done", ""},
		{byDefault, "ftp://gw.example.com/", ""},
		{byDefault, "https:gw.example.com", ""},
		{byDefault, "https://gw.example.com/" + strings.Repeat("a", MaxReturnURLLen), ""},
		{configured, "https://app.example.com/done", "https://app.example.com/done"},
		{configured, "https://app.example.com:444/done", "https://app.example.com:444/done"},
		{configured, "https://shop.example.com:8443/", "https://shop.example.com:8443/"},
		{configured, "https://shop.example.com/", ""},
		{configured, "http://[::1]:9000/x", "http://[::1]:9000/x"},
		{configured, "https://gw.example.com/done", ""}, // configured hosts replace the default
	} {
		got, vs := tc.m.checkReturnURL(tc.url)
		if got != tc.want || (tc.want == "") != (len(vs) == 1 && vs[0].Field == "return_url") {
			t.Errorf("%q: got %q %v, want %q", tc.url, got, vs, tc.want)
		}
	}
	if got, vs := byDefault.checkReturnURL(""); got != "" || vs != nil {
		t.Fatalf("empty return URL: %q %v", got, vs)
	}
}

func TestManager_CheckStart(t *testing.T) {
	t.Parallel()
	r, _ := returnHostRules(nil, []string{"http://127.0.0.1:8080/oauth/callback"})
	m := &Manager{returnHosts: r}
	_, err := m.checkStart([]string{"a b", "merchant_order"}, "https://evil.example", "<script>")
	var ierr *InvalidError
	if !errors.As(err, &ierr) || len(ierr.Violations) != 3 {
		t.Fatalf("err = %v", err)
	}
	fields := []string{ierr.Violations[0].Field, ierr.Violations[1].Field, ierr.Violations[2].Field}
	if strings.Join(fields, ",") != "scopes[0],return_url,open_id" {
		t.Fatalf("fields %v", fields)
	}
	if strings.Contains(err.Error(), "<script>") || strings.Contains(err.Error(), "evil.example") {
		t.Fatalf("error repeats the input: %v", err)
	}
	if ret, err := m.checkStart([]string{"merchant_order"}, "http://127.0.0.1:3000/done", "shop_1-A"); err != nil || ret != "http://127.0.0.1:3000/done" {
		t.Fatalf("valid start: %q %v", ret, err)
	}
}
