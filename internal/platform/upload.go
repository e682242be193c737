package platform

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

// Uploads. An API call with files (open.item.image.upload's imgBytes) is a
// multipart/form-data POST: the common parameters and param are form
// fields, signed exactly as in a form POST; each file is a part with a
// filename, outside the signature. The rules for files are here, in one
// place: the service checks them first to name the field at fault, and
// newRequest checks them again before anything is sent.

// DefaultMaxFileBytes is the most bytes of files one call may carry unless
// configured otherwise (Config.MaxFileBytes).
const DefaultMaxFileBytes = 10 << 20

// MaxFiles is the most files one call may carry.
const MaxFiles = 8

// File is one file of an upload.
type File struct {
	Field   string // the form field, e.g. imgBytes
	Content []byte
}

// FileError is a file the platform must not be sent. It wraps
// ErrInvalidRequest.
type FileError struct {
	Field  string // "" when the fault is the files together (count, size)
	Reason string
}

func (e *FileError) Error() string {
	if e.Field == "" {
		return "platform: files: " + e.Reason
	}
	return "platform: file " + strconv.Quote(e.Field) + ": " + e.Reason
}

func (e *FileError) Unwrap() error { return ErrInvalidRequest }

// imageTypes are the file types the platform takes (its only file field,
// imgBytes, is an image: PNG, JPEG, WebP and BMP per its documentation;
// GIF too), by the MIME type http.DetectContentType sniffs, with the
// filename extension sent for each.
var imageTypes = map[string]string{
	"image/jpeg": ".jpg",
	"image/png":  ".png",
	"image/gif":  ".gif",
	"image/webp": ".webp",
	"image/bmp":  ".bmp",
}

// SniffImage returns the MIME type of an image file judged by its content
// (never by a name or a declared type), or ok false when it is none of
// JPEG, PNG, GIF, WebP and BMP.
func SniffImage(content []byte) (mimeType string, ok bool) {
	t := http.DetectContentType(content)
	_, ok = imageTypes[t]
	return t, ok
}

// reservedFields are the form fields of every signed call: a file may not
// take their names (the platform would read it as one of them).
var reservedFields = []string{
	sign.KeyAccessToken, sign.KeyAppKey, sign.KeyMethod, sign.KeyParam,
	sign.KeySignMethod, sign.KeyTimestamp, sign.KeyVersion, sign.KeySign,
}

// ValidFileField reports whether name can be a file's form field: a letter,
// then letters, digits and underscores, at most 64 bytes, and not the name
// of a signed parameter.
func ValidFileField(name string) bool {
	if name == "" || len(name) > 64 || slices.Contains(reservedFields, name) {
		return false
	}
	for i := range len(name) {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '_')) {
			return false
		}
	}
	return true
}

// CheckFiles checks the files of one call against the rules: at most
// MaxFiles files, each with a valid distinct field name, not empty, an image
// by its content, and at most maxBytes bytes together (maxBytes <= 0 selects
// DefaultMaxFileBytes). It returns nil or a *FileError.
func CheckFiles(files []File, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFileBytes
	}
	if len(files) > MaxFiles {
		return &FileError{Reason: fmt.Sprintf("%d files: at most %d per call", len(files), MaxFiles)}
	}
	var total int64
	for i, f := range files {
		switch {
		case !ValidFileField(f.Field):
			return &FileError{Field: f.Field, Reason: "not a valid file field name (a letter, then letters, digits or _, at most 64; not a signed parameter's name)"}
		case slices.ContainsFunc(files[:i], func(g File) bool { return g.Field == f.Field }):
			return &FileError{Field: f.Field, Reason: "named twice"}
		case len(f.Content) == 0:
			return &FileError{Field: f.Field, Reason: "empty"}
		}
		if t, ok := SniffImage(f.Content); !ok {
			return &FileError{Field: f.Field, Reason: "not an image the platform takes (JPEG, PNG, GIF, WebP or BMP); its content reads as " + t}
		}
		total += int64(len(f.Content))
	}
	if total > maxBytes {
		return &FileError{Reason: fmt.Sprintf("%d bytes of files: at most %d per call", total, maxBytes)}
	}
	return nil
}

// upload is the file parts of one call, built once (newRequest) and sent
// by every attempt after that attempt's form fields.
type upload struct {
	boundary string
	files    []File // sorted by field
}

func newUpload(files []File) *upload {
	var b [24]byte
	_, _ = rand.Read(b[:]) // never fails
	up := &upload{boundary: fmt.Sprintf("kwaishop-%x", b), files: slices.Clone(files)}
	slices.SortFunc(up.files, func(a, b File) int { return strings.Compare(a.Field, b.Field) })
	return up
}

// contentType is the request's Content-Type.
func (u *upload) contentType() string {
	return "multipart/form-data; boundary=" + u.boundary
}

// body returns one attempt's multipart body and its length: a part per
// form field of query (the URL-encoded parameters the attempt signed, in
// their order), then a part per file. File contents are not copied.
func (u *upload) body(query string) (io.Reader, int64, error) {
	var segs segments
	w := multipart.NewWriter(&segs)
	if err := w.SetBoundary(u.boundary); err != nil {
		return nil, 0, err
	}
	for pair := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err := errors.Join(err1, err2); err != nil {
			return nil, 0, err // the client encoded it: cannot happen
		}
		if err := w.WriteField(key, val); err != nil {
			return nil, 0, err
		}
	}
	for _, f := range u.files {
		mimeType, _ := SniffImage(f.Content)
		h := make(textproto.MIMEHeader, 2)
		h.Set("Content-Disposition", `form-data; name="`+f.Field+`"; filename="`+f.Field+imageTypes[mimeType]+`"`)
		h.Set("Content-Type", mimeType)
		if _, err := w.CreatePart(h); err != nil {
			return nil, 0, err
		}
		segs.ref(f.Content)
	}
	if err := w.Close(); err != nil {
		return nil, 0, err
	}
	return segs.reader(), segs.n, nil
}

// segments collects a body as the multipart writer writes it, with file
// contents added by reference between the writes.
type segments struct {
	parts [][]byte
	buf   bytes.Buffer // the bytes written since the last reference
	n     int64
}

func (s *segments) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	return s.buf.Write(p)
}

func (s *segments) flush() {
	if s.buf.Len() > 0 {
		s.parts = append(s.parts, bytes.Clone(s.buf.Bytes()))
		s.buf.Reset()
	}
}

func (s *segments) ref(b []byte) {
	s.flush()
	s.parts = append(s.parts, b)
	s.n += int64(len(b))
}

func (s *segments) reader() io.Reader {
	s.flush()
	rs := make([]io.Reader, len(s.parts))
	for i, p := range s.parts {
		rs[i] = bytes.NewReader(p)
	}
	return io.MultiReader(rs...)
}
