// Package wire provides the HTTP conventions the emulated platform shares on
// every endpoint: request parameters merged from the query string and the
// body, and JSON answers.
package wire

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// Params merges the query string and the body (urlencoded or multipart);
// body values win. Duplicate keys keep their first value. The body is read
// under rules.MaxRequestBody.
func Params(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	params := url.Values{}
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return params, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, rules.MaxRequestBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(rules.MaxRequestBody); err != nil {
			return nil, fmt.Errorf("malformed multipart body: %w", err)
		}
		for k, v := range r.MultipartForm.Value {
			params[k] = v
		}
	default: // application/x-www-form-urlencoded, or none: ParseForm decides
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("malformed form body: %w", err)
		}
		for k, v := range r.PostForm {
			params[k] = v
		}
	}
	return params, nil
}

// First returns the first value of key and whether it is present.
func First(v url.Values, key string) (string, bool) {
	vs, ok := v[key]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// WriteJSON answers v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal encoding error"}`, http.StatusInternalServerError)
		return
	}
	WriteJSONBytes(w, status, b)
}

// WriteJSONBytes answers an encoded JSON body with status.
func WriteJSONBytes(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
