package platform

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
)

// testImage returns a small real image of the given kind.
func testImage(t testing.TB, kind string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	var err error
	switch kind {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "webp": // a RIFF header is what the sniffer reads
		b.WriteString("RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00\x30\x01\x00\x9d\x01\x2a\x01\x00\x01\x00")
	case "bmp":
		b.WriteString("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00")
	default:
		t.Fatalf("no image kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multipartHit is an upload as the fake platform parsed it.
type multipartHit struct {
	contentType string
	fields      map[string][]string
	files       map[string][]*multipart.FileHeader
	contents    map[string][]byte
	signOK      bool
}

// multipartUpstream parses every request as multipart/form-data and checks
// the signature over its form fields with the sign package.
// wrap, if not nil, wraps the handler.
func multipartUpstream(t *testing.T, body string, wrap func(http.Handler) http.Handler) (*httptest.Server, func() []multipartHit) {
	var mu sync.Mutex
	var got []multipartHit
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := multipartHit{contentType: r.Header.Get("Content-Type"), contents: map[string][]byte{}}
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			t.Errorf("upload is not multipart/form-data: %v", err)
			writeJSON(w, 400, `{"result":0}`)
			return
		}
		h.fields, h.files = r.MultipartForm.Value, r.MultipartForm.File
		for name, fhs := range h.files {
			f, _ := fhs[0].Open()
			h.contents[name], _ = io.ReadAll(f)
			f.Close()
		}
		h.signOK = sign.Verify(sign.Method(r.FormValue(sign.KeySignMethod)), func(k string) (string, bool) {
			vs, ok := h.fields[k]
			if !ok || len(vs) == 0 {
				return "", false
			}
			return vs[0], true
		}, testSecret, r.FormValue(sign.KeySign))
		mu.Lock()
		got = append(got, h)
		mu.Unlock()
		writeJSON(w, 200, body)
	})
	if wrap != nil {
		h = wrap(h)
	}
	u := httptest.NewServer(h)
	t.Cleanup(u.Close)
	return u, func() []multipartHit {
		mu.Lock()
		defer mu.Unlock()
		return append([]multipartHit(nil), got...)
	}
}

// An upload is one multipart/form-data POST: the signed parameters and
// param as form fields (signature valid over them), each file as a part
// with a filename and its sniffed type, the bytes unchanged.
func TestClient_Upload_Multipart(t *testing.T) {
	t.Parallel()
	u, hits := multipartUpstream(t, `{"result":1,"data":{"kwaiImgUrl":"https://img.example/1.png"},"requestId":"r-up"}`, nil)
	for _, m := range []sign.Method{sign.HMACSHA256, sign.MD5} {
		c := newTestClient(t, u.URL, func(cfg *Config) { cfg.SignMethod = m })
		img := testImage(t, "png")
		resp, err := c.Do(context.Background(), &Request{
			Method: "open.item.image.upload",
			Param:  []byte(`{"uploadType":1,"imgUrl":""}`),
			Token:  staticToken(testToken),
			Files:  []File{{Field: "imgBytes", Content: img}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Data) != `{"kwaiImgUrl":"https://img.example/1.png"}` {
			t.Fatalf("data %s", resp.Data)
		}
		h := hits()[len(hits())-1]
		mt, params, err := mime.ParseMediaType(h.contentType)
		if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
			t.Fatalf("Content-Type %q", h.contentType)
		}
		if !h.signOK {
			t.Fatalf("%s: signature does not verify over the form fields %v", m, h.fields)
		}
		want := map[string]string{
			"appkey": testAppKey, "method": "open.item.image.upload", "version": "1", "param": `{"uploadType":1,"imgUrl":""}`,
			"access_token": testToken, "signMethod": string(m),
		}
		for k, v := range want {
			if got := h.fields[k]; len(got) != 1 || got[0] != v {
				t.Errorf("field %s = %q, want %q", k, got, v)
			}
		}
		if len(h.fields) != 8 { // the seven above, timestamp and sign
			t.Errorf("fields %v", h.fields)
		}
		fh := h.files["imgBytes"]
		if len(h.files) != 1 || len(fh) != 1 || fh[0].Filename != "imgBytes.png" || fh[0].Header.Get("Content-Type") != "image/png" {
			t.Fatalf("files %v", h.files)
		}
		if !bytes.Equal(h.contents["imgBytes"], img) {
			t.Fatal("the file's bytes changed on the way")
		}
	}
}

// A GET API with files is sent as a POST; an explicit GET with files, a
// wrong type, a reserved field name, too many files or bytes are refused
// before anything is sent.
func TestClient_Upload_Refused(t *testing.T) {
	t.Parallel()
	u, hits := multipartUpstream(t, `{"result":1}`, nil)
	c := newTestClient(t, u.URL, func(cfg *Config) { cfg.MaxFileBytes = 4096 })
	png := testImage(t, "png")
	do := func(r *Request) error {
		r.Token = staticToken(testToken)
		_, err := c.Do(context.Background(), r)
		return err
	}
	if err := do(&Request{Method: "open.item.image.get", Files: []File{{Field: "imgBytes", Content: png}}}); err != nil {
		t.Fatalf("upload to a GET-named API: %v", err)
	}
	if n := len(hits()); n != 1 {
		t.Fatalf("%d uploads sent", n)
	}
	many := make([]File, MaxFiles+1)
	for i := range many {
		many[i] = File{Field: "f" + strings.Repeat("x", i), Content: png}
	}
	for name, r := range map[string]*Request{
		"explicit_get":   {Method: "open.item.image.upload", HTTPMethod: "GET", Files: []File{{Field: "imgBytes", Content: png}}},
		"text_file":      {Method: "open.item.image.upload", Files: []File{{Field: "imgBytes", Content: []byte("hello, not an image")}}},
		"html_file":      {Method: "open.item.image.upload", Files: []File{{Field: "imgBytes", Content: []byte("<html><script>x</script>")}}},
		"svg_file":       {Method: "open.item.image.upload", Files: []File{{Field: "imgBytes", Content: []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`)}}},
		"empty_file":     {Method: "open.item.image.upload", Files: []File{{Field: "imgBytes"}}},
		"empty_name":     {Method: "open.item.image.upload", Files: []File{{Field: "", Content: png}}},
		"sign_name":      {Method: "open.item.image.upload", Files: []File{{Field: "sign", Content: png}}},
		"param_name":     {Method: "open.item.image.upload", Files: []File{{Field: "param", Content: png}}},
		"quote_name":     {Method: "open.item.image.upload", Files: []File{{Field: `a"b`, Content: png}}},
		"crlf_name":      {Method: "open.item.image.upload", Files: []File{{Field: "a\r\nX-Evil: 1", Content: png}}},
		"duplicate_name": {Method: "open.item.image.upload", Files: []File{{Field: "a", Content: png}, {Field: "a", Content: png}}},
		"too_many":       {Method: "open.item.image.upload", Files: many},
		"too_large":      {Method: "open.item.image.upload", Files: []File{{Field: "a", Content: append(slicesRepeat(png, 1), make([]byte, 4096)...)}}},
	} {
		err := do(r)
		var pe *Error
		if !errors.As(err, &pe) || pe.Class != ClassInvalidArgument || !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: %v, want an invalid-request error", name, err)
		}
		var fe *FileError
		if name != "explicit_get" && !errors.As(err, &fe) {
			t.Errorf("%s: %v is no FileError", name, err)
		}
	}
	if n := len(hits()); n != 1 {
		t.Fatalf("refused uploads reached the platform: %d requests", n)
	}
}

func slicesRepeat(b []byte, n int) []byte { return bytes.Repeat(b, n) }

// Every image type the platform takes passes the sniffer; a type declared
// by name or extension is never trusted.
func TestSniffImage(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"png", "jpeg", "gif", "webp", "bmp"} {
		if mt, ok := SniffImage(testImage(t, kind)); !ok || !strings.HasPrefix(mt, "image/") {
			t.Errorf("%s sniffed as %q", kind, mt)
		}
	}
	for _, b := range [][]byte{
		[]byte("%PDF-1.7"), []byte("PK\x03\x04"), []byte("\x00\x00\x01\x00"), []byte("<svg>"), []byte("GIF8"), nil,
	} {
		if mt, ok := SniffImage(b); ok {
			t.Errorf("%q sniffed as image %q", b, mt)
		}
	}
}

// The multipart body's length is what is sent, and retrying an upload
// that could not be sent rebuilds it with a fresh signature.
func TestClient_Upload_RetrySigned(t *testing.T) {
	t.Parallel()
	var n int
	var mu sync.Mutex
	u, hits := multipartUpstream(t, `{"result":1}`, func(inner http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			n++
			first := n == 1
			mu.Unlock()
			if r.ContentLength <= 0 {
				t.Errorf("upload without a Content-Length")
			}
			if first { // a rate limit: the platform acted on nothing, so a POST is retried
				writeJSON(w, http.StatusTooManyRequests, `{}`)
				return
			}
			inner.ServeHTTP(w, r)
		})
	})
	c := newTestClient(t, u.URL)
	if _, err := c.Do(context.Background(), &Request{Method: "open.item.image.upload", Token: staticToken(testToken),
		Files: []File{{Field: "imgBytes", Content: testImage(t, "jpeg")}}}); err != nil {
		t.Fatal(err)
	}
	if h := hits(); len(h) != 1 || !h[0].signOK || len(h[0].contents["imgBytes"]) == 0 {
		t.Fatalf("retried upload %+v", h)
	}
}
