package gateway

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/rules"
)

// Multipart calls (uploads such as open.item.image.upload): the common
// parameters and param are form fields, signed as in any call; each file is
// a part beside them, never signed. A part is a file when it has a filename
// or a Content-Type other than text/plain; any other part is a form field.
//
// Limits, each answered as a parameter error (804001) before any check of
// the call: the whole body at most rules.MaxRequestBody bytes (10 MiB, the
// cap of every call's body, so the files of one call share it), at most
// maxParts parts, a boundary in the Content-Type, a name on every part, a
// file at most once per name; part headers are bounded by mime/multipart.
const maxParts = 32

// isMultipart reports whether the request's body is multipart/form-data.
func isMultipart(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "multipart/form-data"
}

// readMultipart reads a multipart call: the query string and the form
// fields merged (a field wins over the query; a repeated field keeps its
// first value), and the file parts by name.
func readMultipart(w http.ResponseWriter, r *http.Request) (url.Values, map[string][]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, rules.MaxRequestBody)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, fmt.Errorf("malformed multipart body: %w", err)
	}
	fields := url.Values{}
	var files map[string][]byte
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, multipartErr(err)
		}
		if n == maxParts {
			_ = part.Close()
			return nil, nil, fmt.Errorf("malformed multipart body: more than %d parts", maxParts)
		}
		name := part.FormName()
		if name == "" {
			_ = part.Close()
			return nil, nil, errors.New("malformed multipart body: a part without a form field name")
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		isFile := part.FileName() != "" || ct != "" && ct != "text/plain"
		if isFile && files[name] != nil {
			_ = part.Close()
			return nil, nil, fmt.Errorf("file part %q given more than once", name)
		}
		b, err := io.ReadAll(part) // the body cap bounds it
		_ = part.Close()
		if err != nil {
			return nil, nil, multipartErr(err)
		}
		switch {
		case isFile:
			if files == nil {
				files = map[string][]byte{}
			}
			if b == nil {
				b = []byte{}
			}
			files[name] = b
		case len(fields[name]) == 0:
			fields[name] = []string{string(b)}
		}
	}
	params := url.Values{}
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	for k, v := range fields {
		params[k] = v
	}
	return params, files, nil
}

func multipartErr(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("request body larger than %d bytes", rules.MaxRequestBody)
	}
	return fmt.Errorf("malformed multipart body: %w", err)
}
