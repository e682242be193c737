package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform/sign"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
)

// upload is one multipart upload as the fake platform received it.
type upload struct {
	fields   map[string]string
	filename string
	ctype    string
	content  []byte
	signOK   bool
}

// uploadPlatform answers open.item.image.upload like the platform: a
// multipart/form-data POST whose form fields carry a valid signature and
// whose imgBytes part is the image; the answer names a stable URL.
type uploadPlatform struct {
	signSecret string
	mu         sync.Mutex
	got        []upload
}

func (u *uploadPlatform) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		_, _ = io.WriteString(w, `{"result":804001,"error_msg":"not multipart/form-data"}`)
		return
	}
	up := upload{fields: map[string]string{}}
	for k, vs := range r.MultipartForm.Value {
		up.fields[k] = vs[0]
	}
	up.signOK = sign.Verify(sign.Method(up.fields[sign.KeySignMethod]), func(k string) (string, bool) {
		v, ok := up.fields[k]
		return v, ok
	}, u.signSecret, up.fields[sign.KeySign])
	if fhs := r.MultipartForm.File["imgBytes"]; len(fhs) == 1 {
		f, _ := fhs[0].Open()
		up.content, _ = io.ReadAll(f)
		f.Close()
		up.filename, up.ctype = fhs[0].Filename, fhs[0].Header.Get("Content-Type")
	}
	u.mu.Lock()
	u.got = append(u.got, up)
	u.mu.Unlock()
	if !up.signOK || up.content == nil {
		_, _ = io.WriteString(w, `{"result":804001,"error_msg":"bad signature or no imgBytes"}`)
		return
	}
	var param struct {
		ImgURL string `json:"imgUrl"`
	}
	_ = json.Unmarshal([]byte(up.fields["param"]), &param)
	sum := sha256.Sum256(up.content)
	data, _ := json.Marshal(map[string]any{"kwaiImgUrl": "https://img.sandbox.example/" + hex.EncodeToString(sum[:8]), "originImgUrl": param.ImgURL})
	_, _ = io.WriteString(w, `{"result":1,"error_msg":"","requestId":"r-up","data":`+string(data)+`}`)
}

func (u *uploadPlatform) uploads() []upload {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]upload(nil), u.got...)
}

func pngImage(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(2, 2, color.RGBA{G: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegImage(t testing.TB) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func startUploadGateway(t *testing.T) (*gateway, *fakePlatform, *uploadPlatform, string) {
	up := &uploadPlatform{}
	g, f, openID := startFakePlatformGateway(t, map[string]http.HandlerFunc{"/open/item/image/upload": up.serve})
	up.signSecret = f.sb.Config().SignSecret
	return g, f, up, openID
}

// An image reaches the platform as a signed multipart upload through
// Call.files and through UploadImage, on both transports.
func TestUpload_Multipart(t *testing.T) {
	g, _, up, openID := startUploadGateway(t)
	ctx := bearer(context.Background(), llKeyShop)
	img, jpg := pngImage(t), jpegImage(t)
	check := func(t *testing.T, n int, want []byte, ctype, filename string) {
		t.Helper()
		got := up.uploads()
		if len(got) != n {
			t.Fatalf("%d uploads, want %d", len(got), n)
		}
		u := got[n-1]
		if !u.signOK || !bytes.Equal(u.content, want) || u.ctype != ctype || u.filename != filename {
			t.Fatalf("upload sign %v, %d bytes, %q %q", u.signOK, len(u.content), u.ctype, u.filename)
		}
		if u.fields["method"] != "open.item.image.upload" || u.fields["access_token"] == "" || u.fields["appkey"] == "" || u.fields["timestamp"] == "" {
			t.Fatalf("form fields %v", u.fields)
		}
	}

	t.Run("call_files_grpc", func(t *testing.T) {
		resp, err := gatewayv1.NewPlatformServiceClient(g.conn).Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.item.image.upload",
			ParamsJson: `{"uploadType":1,"imgUrl":""}`, Files: map[string][]byte{"imgBytes": img}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(resp.GetData().GetStructValue().GetFields()["kwaiImgUrl"].GetStringValue(), "https://img.sandbox.example/") {
			t.Fatalf("answer %v", resp)
		}
		check(t, 1, img, "image/png", "imgBytes.png")
		if p := up.uploads()[0].fields["param"]; p != `{"uploadType":1,"imgUrl":""}` {
			t.Fatalf("param %s", p)
		}
	})
	t.Run("call_files_rest", func(t *testing.T) {
		body := `{"open_id":"` + openID + `","method":"open.item.image.upload","params":{"uploadType":2,"imgUrl":""},"files":{"imgBytes":"` + base64.StdEncoding.EncodeToString(jpg) + `"}}`
		code, raw := restKey(t, g, http.MethodPost, "/v1/call", body, llKeyShop)
		if code != http.StatusOK || !strings.Contains(string(raw), "https://img.sandbox.example/") {
			t.Fatalf("HTTP %d: %s", code, raw)
		}
		check(t, 2, jpg, "image/jpeg", "imgBytes.jpg")
	})
	t.Run("upload_image_grpc", func(t *testing.T) {
		resp, err := gatewayv1.NewItemServiceClient(g.conn).UploadImage(ctx, &gatewayv1.UploadImageRequest{OpenId: openID, Image: img,
			UploadType: gatewayv1.ImageUploadType_IMAGE_UPLOAD_TYPE_SKU, ImageUrl: "https://example.com/a.png"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(resp.GetKwaiImageUrl(), "https://img.sandbox.example/") || resp.GetOriginImageUrl() != "https://example.com/a.png" ||
			resp.GetPlatformRequestId() != "r-up" || !strings.Contains(resp.GetRaw(), "kwaiImgUrl") {
			t.Fatalf("answer %v", resp)
		}
		check(t, 3, img, "image/png", "imgBytes.png")
		if p := up.uploads()[2].fields["param"]; p != `{"uploadType":3,"imgUrl":"https://example.com/a.png"}` {
			t.Fatalf("param %s", p)
		}
	})
	t.Run("upload_image_rest", func(t *testing.T) {
		body := `{"image":"` + base64.StdEncoding.EncodeToString(jpg) + `","upload_type":"IMAGE_UPLOAD_TYPE_MAIN"}`
		code, raw := restKey(t, g, http.MethodPost, "/v1/shops/"+openID+"/images:upload", body, llKeyShop)
		if code != http.StatusOK {
			t.Fatalf("HTTP %d: %s", code, raw)
		}
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		if u, _ := out["kwai_image_url"].(string); !strings.HasPrefix(u, "https://img.sandbox.example/") {
			t.Fatalf("body %s", raw)
		}
		check(t, 4, jpg, "image/jpeg", "imgBytes.jpg")
	})
	t.Run("large_upload", func(t *testing.T) { // beyond the 1 MiB of other requests, within the files' cap
		big := append(pngImage(t), make([]byte, 3<<20)...)
		if _, err := gatewayv1.NewItemServiceClient(g.conn).UploadImage(ctx, &gatewayv1.UploadImageRequest{OpenId: openID, Image: big,
			UploadType: gatewayv1.ImageUploadType_IMAGE_UPLOAD_TYPE_DETAIL}); err != nil {
			t.Fatal(err)
		}
		body := `{"image":"` + base64.StdEncoding.EncodeToString(big) + `","upload_type":"IMAGE_UPLOAD_TYPE_DETAIL"}`
		if code, raw := restKey(t, g, http.MethodPost, "/v1/shops/"+openID+"/images:upload", body, llKeyShop); code != http.StatusOK {
			t.Fatalf("HTTP %d: %.300s", code, raw)
		}
		check(t, 6, big, "image/png", "imgBytes.png")
	})
}

// Hostile uploads are refused before the platform sees them.
func TestUpload_Hostile(t *testing.T) {
	g, f, _, openID := startUploadGateway(t)
	ctx := bearer(context.Background(), llKeyShop)
	c := gatewayv1.NewPlatformServiceClient(g.conn)
	items := gatewayv1.NewItemServiceClient(g.conn)
	img := pngImage(t)
	const api = "open.item.image.upload"
	call := func(files map[string][]byte) error {
		_, err := c.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: api, ParamsJson: `{"uploadType":1,"imgUrl":""}`, Files: files})
		return err
	}
	many := map[string][]byte{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
		many[k] = img
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		field string
	}{
		{"text_file", map[string][]byte{"imgBytes": []byte("just some text, not an image")}, `files["imgBytes"]`},
		{"html_file", map[string][]byte{"imgBytes": []byte("<!DOCTYPE html><script>alert(1)</script>")}, `files["imgBytes"]`},
		{"svg_file", map[string][]byte{"imgBytes": []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)}, `files["imgBytes"]`},
		{"pdf_file", map[string][]byte{"imgBytes": []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3")}, `files["imgBytes"]`},
		{"too_many", many, "files"},
		{"empty_name", map[string][]byte{"": img}, `files[""]`},
		{"empty_file", map[string][]byte{"imgBytes": {}}, `files["imgBytes"]`},
		{"bad_name", map[string][]byte{"img Bytes\r\n": img}, "files[\"img Bytes\\r\\n\"]"},
		{"signed_name", map[string][]byte{"sign": img}, `files["sign"]`},
		{"not_a_file_field", map[string][]byte{"imgByte": img}, `files["imgByte"]`},
		{"huge_total", map[string][]byte{"imgBytes": append(pngImage(t), make([]byte, platform.DefaultMaxFileBytes)...)}, "files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, br := statusOf(t, call(tc.files), codes.InvalidArgument)
			if !violates(br, tc.field) {
				t.Fatalf("violations %v, want one on %s", br, tc.field)
			}
		})
	}
	// Uncatalogued APIs: the client's rules still hold.
	_, err := c.Call(ctx, &gatewayv1.CallRequest{OpenId: openID, Method: "open.widget.image.upload", Files: map[string][]byte{"param": img}})
	if _, br := statusOf(t, err, codes.InvalidArgument); !violates(br, `files["param"]`) {
		t.Fatalf("a file named param: %v", br)
	}
	_, err = items.UploadImage(ctx, &gatewayv1.UploadImageRequest{OpenId: openID, Image: []byte("GIF89 not really"), UploadType: gatewayv1.ImageUploadType_IMAGE_UPLOAD_TYPE_MAIN})
	if _, br := statusOf(t, err, codes.InvalidArgument); !violates(br, "image") {
		t.Fatalf("UploadImage of text: %v", br)
	}
	_, err = items.UploadImage(ctx, &gatewayv1.UploadImageRequest{OpenId: openID, Image: img})
	if _, br := statusOf(t, err, codes.InvalidArgument); !violates(br, "upload_type") {
		t.Fatalf("UploadImage without a type: %v", br)
	}

	// REST: the base64 of a wrong type, a body past 1 MiB besides the
	// files, a body past the uploads' cap.
	b64 := base64.StdEncoding.EncodeToString
	code, raw := restKey(t, g, http.MethodPost, "/v1/shops/"+openID+"/images:upload", `{"image":"`+b64([]byte("<html></html>"))+`","upload_type":"IMAGE_UPLOAD_TYPE_MAIN"}`, llKeyShop)
	if _, _, br := parseRESTError(t, raw); code != http.StatusBadRequest || !violates(br, "image") {
		t.Fatalf("REST wrong type: HTTP %d %s", code, raw)
	}
	code, raw = restKey(t, g, http.MethodPost, "/v1/call", `{"open_id":"`+openID+`","method":"`+api+`","params":{"imgUrl":"`+strings.Repeat("a", 2<<20)+`"},"files":{"imgBytes":"`+b64(img)+`"}}`, llKeyShop)
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB of params beside a file: HTTP %d %.200s", code, raw)
	}
	code, raw = restKey(t, g, http.MethodPost, "/v1/shops/"+openID+"/images:upload", `{"image":"`+b64(make([]byte, platform.DefaultMaxFileBytes+2<<20))+`","upload_type":"IMAGE_UPLOAD_TYPE_MAIN"}`, llKeyShop)
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("12 MiB image: HTTP %d %.200s", code, raw)
	}
	code, raw = restKey(t, g, http.MethodPost, "/v1/shops/"+openID+"/images:upload", `{"image":"`+b64(img)+`","upload_type":"IMAGE_UPLOAD_TYPE_MAIN","upload_type":"IMAGE_UPLOAD_TYPE_SKU"}`, llKeyShop)
	if code != http.StatusBadRequest {
		t.Fatalf("a member twice: HTTP %d %s", code, raw)
	}
	// Other routes keep their 1 MiB cap.
	code, raw = restKey(t, g, http.MethodPost, "/v1/shops/"+openID+"/items/1/skus/2:updateStock", `{"request_id":"`+strings.Repeat("a", 2<<20)+`"}`, llKeyShop)
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("2 MiB body of another route: HTTP %d %.200s", code, raw)
	}
	if n := f.count(api) + f.count("open.widget.image.upload"); n != 0 {
		t.Fatalf("%d refused uploads reached the platform", n)
	}
}

// A key limited to one shop uploads and calls for that shop only.
func TestUpload_ShopScopedKey(t *testing.T) {
	g, f, _, openID := startUploadGateway(t)
	ctx := bearer(context.Background(), llKeyShop)
	img := pngImage(t)
	_, err := gatewayv1.NewItemServiceClient(g.conn).UploadImage(ctx, &gatewayv1.UploadImageRequest{OpenId: "another_shop", Image: img, UploadType: gatewayv1.ImageUploadType_IMAGE_UPLOAD_TYPE_MAIN})
	statusOf(t, err, codes.PermissionDenied)
	_, err = gatewayv1.NewPlatformServiceClient(g.conn).Call(ctx, &gatewayv1.CallRequest{OpenId: "another_shop", Method: "open.item.image.upload",
		ParamsJson: `{"uploadType":1,"imgUrl":""}`, Files: map[string][]byte{"imgBytes": img}})
	statusOf(t, err, codes.PermissionDenied)
	// An app-level call names no shop: refused to a key limited to shops.
	_, err = gatewayv1.NewPlatformServiceClient(g.conn).Call(ctx, &gatewayv1.CallRequest{Method: "open.item.image.upload",
		ParamsJson: `{"uploadType":1,"imgUrl":""}`, Files: map[string][]byte{"imgBytes": img}})
	statusOf(t, err, codes.PermissionDenied)
	code, raw := restKey(t, g, http.MethodPost, "/v1/shops/another_shop/images:upload", `{"image":"`+base64.StdEncoding.EncodeToString(img)+`","upload_type":"IMAGE_UPLOAD_TYPE_MAIN"}`, llKeyShop)
	if code != http.StatusForbidden {
		t.Fatalf("REST upload for another shop: HTTP %d %s", code, raw)
	}
	if n := f.count("open.item.image.upload"); n != 0 {
		t.Fatalf("%d uploads for another shop reached the platform", n)
	}
	if _, err := gatewayv1.NewItemServiceClient(g.conn).UploadImage(ctx, &gatewayv1.UploadImageRequest{OpenId: openID, Image: img, UploadType: gatewayv1.ImageUploadType_IMAGE_UPLOAD_TYPE_MAIN}); err != nil {
		t.Fatalf("upload for the key's own shop: %v", err)
	}
}

// Against the sandbox itself over real sockets: the sandbox checks the
// multipart body's signature and sniffs the image; the upload succeeds with
// a URL, and a text file is refused before it is sent.
func TestUpload_Sandbox(t *testing.T) {
	g := startGateway(t)
	resp, err := gatewayv1.NewItemServiceClient(g.conn).UploadImage(context.Background(), &gatewayv1.UploadImageRequest{
		OpenId: g.info.SandboxOpenID, Image: pngImage(t), UploadType: gatewayv1.ImageUploadType_IMAGE_UPLOAD_TYPE_MAIN})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetKwaiImageUrl() == "" {
		t.Fatalf("answer %v", resp)
	}
	_, err = gatewayv1.NewItemServiceClient(g.conn).UploadImage(context.Background(), &gatewayv1.UploadImageRequest{
		OpenId: g.info.SandboxOpenID, Image: []byte("just some text, not an image"), UploadType: gatewayv1.ImageUploadType_IMAGE_UPLOAD_TYPE_MAIN})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a text file as an image: %v, want InvalidArgument", err)
	}
}

// Every REST route of an RPC whose request may carry files takes the
// uploads' body cap, and no other route does.
func TestUpload_Routes(t *testing.T) {
	var want []string
	protoregistry.GlobalFiles.RangeFilesByPackage("kwaishop.gateway.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			ms := fd.Services().Get(i).Methods()
			for j := range ms.Len() {
				m := ms.Get(j)
				rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
				if rule == nil || service.MaxMessageBytes(m.Input()) <= service.MaxRequestBytes {
					continue
				}
				want = append(want, rule.GetPost())
			}
		}
		return true
	})
	slices.Sort(want)
	got := slices.Sorted(maps.Keys(uploadRoutes))
	if !slices.Equal(got, want) || len(want) != 2 {
		t.Fatalf("uploadRoutes %v, the upload RPCs' routes %v", got, want)
	}
}
