package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxParamsBytes caps the platform's `param` JSON of one call, whichever
// form the params came in.
const MaxParamsBytes = 1 << 20

// ExactParams checks params given as JSON text (CallRequest.params_json, and
// REST's params member, which the HTTP edge passes here as text) and returns
// the platform's `param`: the same object with its whitespace removed, every
// number's digits as written. The text must be one JSON object (null or
// nothing means {}), UTF-8, at most MaxParamsBytes, nested at most
// MaxParamsDepth levels, with no member name twice in one object (the
// platform would read one of them, and not say which). Anything else is a
// violation on field.
func ExactParams(field string, text []byte) (json.RawMessage, *FieldViolation) {
	text = bytes.TrimSpace(text)
	if len(text) == 0 || string(text) == "null" {
		return json.RawMessage("{}"), nil
	}
	bad := func(desc string) *FieldViolation { return &FieldViolation{Field: field, Description: desc} }
	if len(text) > MaxParamsBytes {
		return nil, bad("longer than " + strconv.Itoa(MaxParamsBytes) + " bytes")
	}
	dec := jsontext.NewDecoder(bytes.NewReader(text)) // duplicate names and invalid UTF-8 are errors
	if dec.PeekKind() != '{' {
		if !json.Valid(text) {
			return nil, bad("not valid JSON")
		}
		return nil, bad("must be a JSON object")
	}
	for {
		_, err := dec.ReadToken()
		if err != nil {
			return nil, bad(jsonProblem(err))
		}
		if d := dec.StackDepth(); d > MaxParamsDepth {
			return nil, bad(ParamsTooDeep)
		} else if d == 0 {
			break // the object ended
		}
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, bad("must be one JSON object: data follows it")
	}
	var out bytes.Buffer
	out.Grow(len(text))
	if err := json.Compact(&out, text); err != nil { // valid: cannot fail
		return nil, bad("not valid JSON")
	}
	return out.Bytes(), nil
}

// jsonProblem describes a syntax error of params without quoting the input.
func jsonProblem(err error) string {
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return "not valid JSON: it ends early"
		}
		return "not valid JSON"
	}
	switch {
	case errors.Is(se.Err, io.ErrUnexpectedEOF):
		return "not valid JSON: it ends early"
	case errors.Is(se.Err, jsontext.ErrDuplicateName):
		name := se.JSONPointer.LastToken()
		if len(name) > 64 {
			name = name[:64] + "…"
		}
		return "member " + strconv.Quote(strings.ToValidUTF8(name, "\uFFFD")) + " appears twice in one object" + at(se.JSONPointer.Parent())
	case strings.Contains(se.Error(), "invalid UTF-8"):
		return "not UTF-8" + at(se.JSONPointer)
	}
	return "not valid JSON (at byte " + strconv.FormatInt(se.ByteOffset, 10) + ")"
}

// at names where in params a fault is, as a JSON pointer ("" at the top).
func at(p jsontext.Pointer) string {
	if p == "" {
		return ""
	}
	s := strings.ToValidUTF8(string(p), "\uFFFD")
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return " (at " + s + ")"
}
