// Package rest writes the REST API's error answers. Every failure a REST
// caller can meet — a refusal of the HTTP edge, a route that does not exist,
// a body or query the REST gateway cannot parse, an error of the gRPC
// service behind it, a key refused on /metrics — answers one JSON body:
//
//	{"code": "NOT_FOUND", "message": "...", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", ...}]}
//
// code is the name of the gRPC status code (the google.rpc.Code enum name,
// which is also what Google's HTTP APIs call "status"); message is for
// developers; details is always an array of the status details as
// protobuf JSON with proto field names. docs/rest.md describes the contract.
package rest

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// CodeName is the name a REST error body gives a gRPC code: NOT_FOUND,
// INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ... (google.rpc.Code; CANCELLED is
// spelled as there). A code outside the enum is UNKNOWN.
func CodeName(c codes.Code) string {
	if n, ok := code.Code_name[int32(c)]; ok {
		return n
	}
	return code.Code_UNKNOWN.String()
}

// detailJSON writes details as the REST gateway writes messages: proto
// field names (retry_delay, field_violations).
var detailJSON = protojson.MarshalOptions{UseProtoNames: true}

// body is the error body; the field order is the wire order.
type body struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details []json.RawMessage `json:"details"`
}

// ErrorBody is st as a REST error body. A detail whose type this binary
// does not know cannot be written as JSON and is left out.
func ErrorBody(st *status.Status) []byte {
	p := st.Proto()
	b := body{Code: CodeName(st.Code()), Message: p.GetMessage(), Details: make([]json.RawMessage, 0, len(p.GetDetails()))}
	for _, d := range p.GetDetails() {
		raw, err := detailJSON.Marshal(d) // an Any: {"@type": ..., fields}
		if err != nil {
			continue
		}
		b.Details = append(b.Details, raw)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(b) // strings and valid JSON only: cannot fail
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

// RetryAfter is the Retry-After value for st: its RetryInfo delay in whole
// seconds, rounded up (at least 1); "" when st has no RetryInfo.
func RetryAfter(st *status.Status) string {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			secs := math.Ceil(ri.GetRetryDelay().AsDuration().Seconds())
			return strconv.FormatInt(int64(max(secs, 1)), 10)
		}
	}
	return ""
}

// WriteError writes st as the REST answer with httpStatus. A 429 or 503
// whose status carries RetryInfo also says when to retry in Retry-After.
func WriteError(w http.ResponseWriter, httpStatus int, st *status.Status) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if httpStatus == http.StatusTooManyRequests || httpStatus == http.StatusServiceUnavailable {
		if ra := RetryAfter(st); ra != "" {
			h.Set("Retry-After", ra)
		}
	}
	w.WriteHeader(httpStatus)
	_, _ = w.Write(ErrorBody(st))
}
