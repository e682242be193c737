package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/catalog/catalogtest"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/api/schema"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox/sandboxtest"
)

const upload = "open.item.image.upload"

// jpeg is the start of a JPEG file: enough for content sniffing.
var jpeg = []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0}

type part struct {
	name, filename, contentType string
	body                        []byte
}

// postMultipart sends the signed fields and parts as multipart/form-data
// (contentType "" = the writer's, with its boundary) and returns the HTTP
// status and the envelope.
func postMultipart(t *testing.T, c *sandboxtest.SDK, method string, fields map[string]string, parts []part, contentType string) (int, sandboxtest.APIResp) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, _ := mw.CreatePart(h)
		_, _ = w.Write(p.body)
	}
	_ = mw.Close()
	if contentType == "" {
		contentType = mw.FormDataContentType()
	}
	return postRaw(t, c, method, contentType, body.Bytes())
}

func postRaw(t *testing.T, c *sandboxtest.SDK, method, contentType string, body []byte) (int, sandboxtest.APIResp) {
	t.Helper()
	resp, err := c.HC.Post(c.Base+"/"+strings.ReplaceAll(method, ".", "/"), contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r sandboxtest.APIResp
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("HTTP %d, not an envelope: %v: %.200s", resp.StatusCode, err, raw)
	}
	return resp.StatusCode, r
}

type imageInfo struct {
	KwaiImgURL   string `json:"kwaiImgUrl"`
	OriginImgURL string `json:"originImgUrl"`
}

func TestGateway_Upload(t *testing.T) {
	t.Parallel()
	s, c := sandboxtest.Setup(t, sandbox.Config{Seed: 21})
	tok := c.Authorize(1).AccessToken
	params := map[string]any{"imgUrl": "https://example.com/a.png", "uploadType": 1}
	want := func(b []byte, ext string) string {
		sum := sha256.Sum256(b)
		return schema.URLBase + "images/" + hex.EncodeToString(sum[:16]) + "." + ext
	}
	send := func(t *testing.T, params any, parts ...part) (int, sandboxtest.APIResp) {
		t.Helper()
		return postMultipart(t, c, upload, c.Params(tok, upload, params), parts, "")
	}

	t.Run("image_answers_a_stable_url", func(t *testing.T) {
		var info imageInfo
		for i, p := range []map[string]any{params, {"imgUrl": "other", "uploadType": 2}} {
			st, r := send(t, p, part{"imgBytes", "a.png", "image/png", catalogtest.PNG})
			if st != 200 || r.Result != 1 {
				t.Fatalf("upload %d: %d %+v", i, st, r)
			}
			if err := json.Unmarshal(r.Data, &info); err != nil || info.KwaiImgURL != want(catalogtest.PNG, "png") {
				t.Fatalf("upload %d: %s, want %s", i, r.Data, want(catalogtest.PNG, "png"))
			}
		}
		// Other bytes, another URL; no filename but an image type is a file.
		st, r := send(t, params, part{"imgBytes", "", "application/octet-stream", jpeg})
		if err := json.Unmarshal(r.Data, &info); st != 200 || r.Result != 1 || err != nil || info.KwaiImgURL != want(jpeg, "jpeg") {
			t.Fatalf("jpeg: %d %+v", st, r)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			params any
			parts  []part
			msg    string
		}{
			{"not_an_image", params, []part{{"imgBytes", "a.png", "image/png", []byte("#!/bin/sh\necho not an image\n")}}, "imgBytes: not an image"},
			{"empty_file", params, []part{{"imgBytes", "a.png", "image/png", nil}}, "imgBytes: the file is empty"},
			{"no_file", params, nil, "imgBytes: required file part is missing"},
			{"other_file_field", params, []part{{"imgBytes", "a.png", "", catalogtest.PNG}, {"imgByte", "b.png", "", catalogtest.PNG}}, `imgByte: not a file field of this API; did you mean "imgBytes"?`},
			{"file_twice", params, []part{{"imgBytes", "a.png", "", catalogtest.PNG}, {"imgBytes", "b.png", "", catalogtest.PNG}}, `file part "imgBytes" given more than once`},
			{"file_in_params", map[string]any{"imgUrl": "u", "uploadType": 1, "imgBytes": "AAAA"}, []part{{"imgBytes", "a.png", "", catalogtest.PNG}}, "param.imgBytes: a file field"},
			{"missing_param", map[string]any{"imgUrl": "u"}, []part{{"imgBytes", "a.png", "", catalogtest.PNG}}, "param.uploadType: required field is missing"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				st, r := send(t, tc.params, tc.parts...)
				if st != 200 || r.Result != platform.ResultParamInvalid || !strings.HasPrefix(r.ErrorMsg, tc.msg) {
					t.Fatalf("%d %d %q, want 804001 %q", st, r.Result, r.ErrorMsg, tc.msg)
				}
			})
		}
		// An API without file fields takes no file part.
		fields := c.Params(tok, "open.item.delete", map[string]any{"kwaiItemId": 1})
		if _, r := postMultipart(t, c, "open.item.delete", fields, []part{{"imgBytes", "a.png", "", catalogtest.PNG}}, ""); r.Result != platform.ResultParamInvalid || r.ErrorMsg != "imgBytes: this API takes no file parts" {
			t.Fatalf("file on open.item.delete: %+v", r)
		}
	})

	t.Run("files_are_not_signed", func(t *testing.T) {
		fields := c.Params(tok, upload, params)
		// The signature covers the fields only: any file passes it ...
		if _, r := postMultipart(t, c, upload, fields, []part{{"imgBytes", "x.gif", "", []byte("GIF89a\x01\x00\x01\x00")}}, ""); r.Result != 1 {
			t.Fatalf("gif: %+v", r)
		}
		// ... and a changed field fails it.
		fields[sign.KeyParam] = `{"imgUrl":"changed","uploadType":1}`
		if _, r := postMultipart(t, c, upload, fields, []part{{"imgBytes", "a.png", "", catalogtest.PNG}}, ""); r.Result != platform.ResultSignInvalid {
			t.Fatalf("changed param: %+v", r)
		}
	})

	t.Run("hostile_bodies", func(t *testing.T) {
		fields := c.Params(tok, upload, params)
		many := make([]part, 5000)
		for i := range many {
			many[i] = part{name: fmt.Sprintf("f%d", i), body: []byte("x")}
		}
		huge := bytes.Repeat([]byte{0}, 11<<20)
		copy(huge, catalogtest.PNG)
		var noName bytes.Buffer
		mw := multipart.NewWriter(&noName)
		w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {"form-data"}})
		_, _ = w.Write([]byte("x"))
		_ = mw.Close()
		var cut bytes.Buffer
		mw2 := multipart.NewWriter(&cut)
		_ = mw2.WriteField("appkey", "x")
		for _, tc := range []struct {
			name string
			send func() (int, sandboxtest.APIResp)
			msg  string
		}{
			{"thousands_of_parts", func() (int, sandboxtest.APIResp) { return postMultipart(t, c, upload, fields, many, "") }, "malformed multipart body: more than 32 parts"},
			{"huge_part", func() (int, sandboxtest.APIResp) {
				return postMultipart(t, c, upload, fields, []part{{"imgBytes", "a.png", "", huge}}, "")
			}, "request body larger than 10485760 bytes"},
			{"no_boundary", func() (int, sandboxtest.APIResp) {
				return postMultipart(t, c, upload, fields, nil, "multipart/form-data")
			}, "malformed multipart body"},
			{"part_without_name", func() (int, sandboxtest.APIResp) {
				return postRaw(t, c, upload, mw.FormDataContentType(), noName.Bytes())
			}, "malformed multipart body: a part without a form field name"},
			{"cut_short", func() (int, sandboxtest.APIResp) {
				return postRaw(t, c, upload, mw2.FormDataContentType(), cut.Bytes())
			}, "malformed multipart body"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				st, r := tc.send()
				if st != 200 || r.Result != platform.ResultParamInvalid || !strings.HasPrefix(r.ErrorMsg, tc.msg) || r.RequestID == "" {
					t.Fatalf("%d %d %q, want 804001 %q", st, r.Result, r.ErrorMsg, tc.msg)
				}
			})
		}
		// Still serving.
		if _, r := send(t, params, part{"imgBytes", "a.png", "", catalogtest.PNG}); r.Result != 1 {
			t.Fatalf("after the hostile bodies: %+v", r)
		}
	})
	if n := s.Counters().Calls[upload]; n < 10 {
		t.Errorf("%d upload calls counted", n)
	}
}
