package platform

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzCheckResponse decodes arbitrary bodies under arbitrary HTTP statuses:
// it never panics; there is no error exactly when a Response with result 1
// comes back; every error is a classified *Error naming the method and the
// status; a Response keeps the body and status as received. Seeds: the
// envelope shapes of the protocol (TestCheckResponse's cases and more).
func FuzzCheckResponse(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{200, `{"result":1,"data":{"oid":9007199254740993},"requestId":"r"}`},
		{200, `{"result":"1","data":[]}`},
		{200, `{"result":28,"error_msg":"access_token expired","requestId":"r28"}`},
		{200, `{"result":24,"error_msg":"AUTHORIZATION_REVOKED"}`},
		{200, `{"result":"24","error_msg":"AUTHORIZATION_REVOKED"}`},
		{200, `{"result":22,"msg":"no scope"}`},
		{200, `{"result":1016,"error_msg":"Exceed qps limit"}`},
		{200, `{"result":1017,"error_msg":"exceed quota limit"}`},
		{200, `{"result":804001,"error_msg":"param invalid","code":"804001","sub_code":"pageSize","sub_msg":"too big"}`},
		{200, `{"result":100200102,"error":"access_denied","error_msg":"refreshToken.revokedAuthorization"}`},
		{200, `{"result":11,"code":400,"msg":"blocked","request_id":"snake"}`},
		{400, `{"result":804001}`},
		{502, `<html>bad gateway</html>`},
		{503, `{"result":1,"requestId":"r5"}`},
		{200, ``},
		{200, `null`},
		{200, `[{"result":1}]`},
		{200, `{"result":"ok"}`},
		{200, `{"result":1.5}`},
		{200, `{"result":-1e30}`},
		{200, ` {"result":1} `},
		{429, `{"message":"slow down"}`},
		{0, `{"result":1}`},
		{-1, "\xff{"},
	} {
		f.Add(s.status, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		orig := bytes.Clone(body)
		resp, err := CheckResponse(status, body, "open.fuzz.api")
		if !bytes.Equal(body, orig) {
			t.Fatal("CheckResponse modified the body")
		}
		success := resp != nil && resp.Result == ResultSuccess
		if (err == nil) != success {
			t.Fatalf("err = %v but resp = %+v: want no error exactly when result is 1", err, resp)
		}
		if resp != nil && (!bytes.Equal(resp.Raw, body) || resp.HTTPStatus != status) {
			t.Fatalf("resp keeps raw %q status %d, want %q %d", resp.Raw, resp.HTTPStatus, body, status)
		}
		if status >= 500 && (resp != nil || err == nil) {
			t.Fatalf("HTTP %d: resp %+v err %v, want an upstream error only", status, resp, err)
		}
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("err %T is not *Error", err)
		}
		if e.Method != "open.fuzz.api" || e.HTTPStatus != status || e.Class == ClassUnknown || e.Error() == "" {
			t.Fatalf("err = %#v", e)
		}
		if resp != nil && e.Result != resp.Result {
			t.Fatalf("err result %d, resp result %d", e.Result, resp.Result)
		}
	})
}
