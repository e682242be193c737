package platform

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		wantClass  Class // ClassUnknown: success
		wantResult int64
		wantMsg    string
		wantReqID  string
		wantCode   string
		wantResp   bool // a Response is returned
	}{
		{name: "success", status: 200, body: `{"result":1,"data":{"oid":9007199254740993},"requestId":"r"}`, wantResult: 1, wantReqID: "r", wantResp: true},
		{name: "success_result_string", status: 200, body: `{"result":"1","data":[]}`, wantResult: 1, wantResp: true},
		{name: "auth_token_invalid_28", status: 200, body: `{"result":28,"error_msg":"access_token expired","requestId":"r28"}`, wantClass: ClassAuth, wantResult: 28, wantMsg: "access_token expired", wantReqID: "r28", wantResp: true},
		{name: "auth_appkey_25", status: 200, body: `{"result":25}`, wantClass: ClassAuth, wantResult: 25, wantMsg: CodeMessage(25), wantResp: true},
		{name: "revoked_24", status: 200, body: `{"result":24,"error_msg":"AUTHORIZATION_REVOKED"}`, wantClass: ClassRevoked, wantResult: 24, wantMsg: MsgRevoked, wantResp: true},
		{name: "revoked_24_as_string", status: 200, body: `{"result":"24","error_msg":"AUTHORIZATION_REVOKED"}`, wantClass: ClassRevoked, wantResult: 24, wantMsg: MsgRevoked, wantResp: true},
		{name: "permission_22", status: 200, body: `{"result":22,"msg":"no scope"}`, wantClass: ClassPermission, wantResult: 22, wantMsg: "no scope", wantResp: true},
		{name: "permission_21_operation_reject", status: 200, body: `{"result":21,"error_msg":"order operation reject","requestId":"k1006"}`, wantClass: ClassPermission, wantResult: 21, wantMsg: "order operation reject", wantReqID: "k1006", wantResp: true},
		{name: "signature_27", status: 200, body: `{"result":27,"error_msg":"sign check failed"}`, wantClass: ClassSignature, wantResult: 27, wantMsg: "sign check failed", wantResp: true},
		{name: "rate_limit_1016", status: 200, body: `{"result":1016,"error_msg":"Exceed qps limit"}`, wantClass: ClassRateLimit, wantResult: 1016, wantMsg: "Exceed qps limit", wantResp: true},
		{name: "quota_1017", status: 200, body: `{"result":1017,"error_msg":"exceed quota limit"}`, wantClass: ClassQuota, wantResult: 1017, wantMsg: "exceed quota limit", wantResp: true},
		{name: "invalid_argument_804001", status: 200, body: `{"result":804001,"error_msg":"param invalid","code":"804001","sub_code":"pageSize","sub_msg":"too big"}`, wantClass: ClassInvalidArgument, wantResult: 804001, wantMsg: "param invalid", wantCode: "804001", wantResp: true},
		{name: "business_300011", status: 200, body: `{"result":300011,"error_msg":"refund not found"}`, wantClass: ClassBusiness, wantResult: 300011, wantMsg: "refund not found", wantResp: true},
		{name: "oauth_error_name_as_code", status: 200, body: `{"result":100200102,"error":"access_denied","error_msg":"refreshToken.discarded"}`, wantClass: ClassAuth, wantResult: 100200102, wantMsg: MsgRefreshDiscarded, wantCode: "access_denied", wantResp: true},
		{name: "oauth_server_error_upstream", status: 200, body: `{"result":100200500,"error":"server_error"}`, wantClass: ClassUpstream, wantResult: 100200500, wantMsg: "server_error", wantCode: "server_error", wantResp: true},
		{name: "numeric_code", status: 200, body: `{"result":11,"code":400,"msg":"blocked"}`, wantClass: ClassBusiness, wantResult: 11, wantMsg: "blocked", wantCode: "400", wantResp: true},
		{name: "request_id_snake", status: 200, body: `{"result":11,"request_id":"snake"}`, wantClass: ClassBusiness, wantResult: 11, wantMsg: CodeMessage(11), wantReqID: "snake", wantResp: true},
		{name: "request_id_camel_preferred", status: 200, body: `{"result":11,"request_id":"snake","requestId":"camel"}`, wantClass: ClassBusiness, wantResult: 11, wantMsg: CodeMessage(11), wantReqID: "camel", wantResp: true},
		{name: "error_on_4xx_status", status: 400, body: `{"result":804001}`, wantClass: ClassInvalidArgument, wantResult: 804001, wantMsg: CodeMessage(804001), wantResp: true},
		{name: "upstream_5xx", status: 502, body: `<html>bad gateway</html>`, wantClass: ClassUpstream, wantMsg: "Bad Gateway"},
		{name: "upstream_5xx_json_result", status: 503, body: `{"result":1,"requestId":"r5"}`, wantClass: ClassUpstream, wantMsg: "Service Unavailable", wantReqID: "r5"},
		{name: "upstream_non_json", status: 200, body: `<html>maintenance</html>`, wantClass: ClassUpstream, wantMsg: "response body is not a JSON object"},
		{name: "upstream_empty", status: 200, body: ``, wantClass: ClassUpstream, wantMsg: "response body is not a JSON object"},
		{name: "upstream_json_null", status: 200, body: `null`, wantClass: ClassUpstream, wantMsg: "response body is not a JSON object"},
		{name: "upstream_json_array", status: 200, body: `[{"result":1}]`, wantClass: ClassUpstream, wantMsg: "response body is not a JSON object"},
		{name: "upstream_bad_result", status: 200, body: `{"result":"ok"}`, wantClass: ClassUpstream, wantMsg: "response body is not a JSON object"},
		{name: "upstream_no_result", status: 200, body: `{"data":{}}`, wantClass: ClassUpstream, wantMsg: "response has no result"},
		{name: "rate_limit_429_no_result", status: 429, body: `{"message":"slow down"}`, wantClass: ClassRateLimit, wantMsg: "response has no result"},
	}
	covered := map[Class]bool{}
	for _, tt := range tests {
		covered[tt.wantClass] = true
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := CheckResponse(tt.status, []byte(tt.body), "open.test.api")
			if (resp != nil) != tt.wantResp {
				t.Fatalf("resp = %+v, want present %v", resp, tt.wantResp)
			}
			if resp != nil {
				if resp.Result != tt.wantResult || string(resp.Raw) != tt.body || resp.HTTPStatus != tt.status || resp.RequestID != tt.wantReqID {
					t.Errorf("resp = %+v", resp)
				}
			}
			if tt.wantClass == ClassUnknown {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Class != tt.wantClass || e.Result != tt.wantResult || e.Msg != tt.wantMsg || e.RequestID != tt.wantReqID ||
				e.HTTPStatus != tt.status || e.Method != "open.test.api" || e.Code != tt.wantCode {
				t.Errorf("err = %#v", e)
			}
			if !IsClass(err, tt.wantClass) {
				t.Error("IsClass false")
			}
		})
	}
	for c := ClassUnknown; c <= ClassUpstream; c++ {
		if !covered[c] {
			t.Errorf("class %v not covered", c)
		}
	}
	t.Run("data_keeps_int64_precision", func(t *testing.T) {
		resp, err := CheckResponse(200, []byte(`{"result":1,"data":{"oid":9007199254740993}}`), "m")
		if err != nil || string(resp.Data) != `{"oid":9007199254740993}` {
			t.Fatalf("data %s err %v", resp.Data, err)
		}
	})
}

func TestError_Error(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Method: "open.order.detail", Result: 24, Msg: "AUTHORIZATION_REVOKED", RequestID: "r1", Class: ClassRevoked},
			"platform: open.order.detail: result 24: AUTHORIZATION_REVOKED (request id r1)"},
		{&Error{Method: "open.x.y", Result: 804001, Msg: "param invalid", SubCode: "pageSize"},
			"platform: open.x.y: result 804001: param invalid [sub_code pageSize]"},
		{&Error{Method: "open.x.y", Class: ClassUpstream, HTTPStatus: 502, Msg: "Bad Gateway"},
			"platform: open.x.y: upstream: http 502: Bad Gateway"},
		{&Error{Method: "open.x.y", Class: ClassUpstream, Err: errors.New("dial tcp: refused")},
			"platform: open.x.y: upstream: dial tcp: refused"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	e := &Error{Class: ClassUpstream, Err: ErrResponseTooLarge}
	if !errors.Is(e, ErrResponseTooLarge) || !e.Retryable() {
		t.Error("Unwrap/Retryable")
	}
	e.MayHaveApplied = true
	if e.Retryable() {
		t.Error("a write with unknown outcome is Retryable")
	}
	if (&Error{Class: ClassBusiness}).Retryable() || !(&Error{Class: ClassRateLimit}).Retryable() {
		t.Error("Retryable by class")
	}
	if IsClass(errors.New("x"), ClassUnknown) || !strings.HasPrefix(e.Error(), "platform: ") {
		t.Error("IsClass on a foreign error")
	}
}
