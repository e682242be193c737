package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// recordingCaller answers every call with body (a platform answer) and
// keeps the requests.
type recordingCaller struct {
	mu   sync.Mutex
	reqs []*platform.Request
	body string
	err  error
}

func (c *recordingCaller) Do(_ context.Context, r *platform.Request) (*platform.Response, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, r)
	c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	return platform.CheckResponse(200, []byte(c.body), r.Method)
}

func (c *recordingCaller) sent() []*platform.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*platform.Request(nil), c.reqs...)
}

// violations returns the field violations of an InvalidArgument status
// (failing the test on any other error).
func violations(t *testing.T, err error) map[string]string {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	out := map[string]string{}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out[v.GetField()] = v.GetDescription()
			}
		}
	}
	return out
}

func TestExactParams(t *testing.T) {
	t.Parallel()
	ok := []struct{ in, want string }{
		{``, `{}`},
		{`null`, `{}`},
		{` { "id" : 1234567890123456789 , "a":[ 1.50, 1e400, -0 ] } `, `{"id":1234567890123456789,"a":[1.50,1e400,-0]}`},
		{`{"s":"\u00e9<>&","t":"短袖"}`, `{"s":"\u00e9<>&","t":"短袖"}`},
		{`{"a":{"a":1},"b":{"a":2}}`, `{"a":{"a":1},"b":{"a":2}}`}, // the same name in two objects
		{deepJSON(MaxParamsDepth), deepJSON(MaxParamsDepth)},
	}
	for _, tc := range ok {
		got, bad := ExactParams("params_json", []byte(tc.in))
		if bad != nil || string(got) != tc.want {
			t.Errorf("%q: %s %v, want %s", tc.in, got, bad, tc.want)
		}
	}
	refused := []struct{ in, want string }{
		{`[1,2]`, "must be a JSON object"},
		{`"x"`, "must be a JSON object"},
		{`12`, "must be a JSON object"},
		{`{"a":1`, "ends early"},
		{`{"a":1}{"b":2}`, "data follows it"},
		{`{"a":1} x`, "data follows it"},
		{`{a:1}`, "not valid JSON"},
		{`nope`, "not valid JSON"},
		{`{"a":1,"a":2}`, `member "a" appears twice`},
		{`{"x":{"y":[{"k":1,"k":1}]}}`, `member "k" appears twice in one object (at /x/y/0)`},
		{"{\"a\":\"\xff\"}", "not UTF-8"},
		{deepJSON(MaxParamsDepth + 1), ParamsTooDeep},
		{deepJSON(100000), ParamsTooDeep},
		{`{"a":"` + strings.Repeat("x", MaxParamsBytes) + `"}`, "longer than"},
	}
	for _, tc := range refused {
		_, bad := ExactParams("params_json", []byte(tc.in))
		if bad == nil || bad.Field != "params_json" || !strings.Contains(bad.Description, tc.want) {
			t.Errorf("%.60q: %+v, want a violation saying %q", tc.in, bad, tc.want)
		}
	}
}

func deepJSON(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

// Call sends params_json exactly, refuses both forms at once, and
// answers with the body verbatim and the members beside data.
func TestPlatformCall_Lossless(t *testing.T) {
	t.Parallel()
	body := `{"result":1,"error_msg":"","requestId":"r-9","data":{"id":1234567890123456789},` +
		`"batchDecryptResultList":[{"bizId":1234567890123456789,"decryptedData":"张三"}],"code":"0","extra":null}`
	c := &recordingCaller{body: body}
	s := NewPlatform(c, staticTokens{}, nil)
	ctx := context.Background()
	resp, err := s.Call(ctx, &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.widget.thing.get", ParamsJson: `{"id": 1234567890123456789}`})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(c.sent()[0].Param); got != `{"id":1234567890123456789}` {
		t.Fatalf("param sent as %s", got)
	}
	if resp.GetBodyJson() != body || resp.GetRequestId() != "r-9" || resp.GetResult() != 1 {
		t.Fatalf("response %v", resp)
	}
	m := resp.GetMembers().GetFields()
	if len(m) != 2 || m["batchDecryptResultList"].GetListValue() == nil || m["extra"].GetNullValue() != structpb.NullValue_NULL_VALUE {
		t.Fatalf("members %v", m)
	}
	if resp.GetData().GetStructValue().GetFields()["id"] == nil {
		t.Fatalf("data %v", resp.GetData())
	}

	// Both forms at once.
	_, err = s.Call(ctx, &gatewayv1.CallRequest{Method: "open.widget.thing.get", ParamsJson: `{}`, Params: structpb.NewStructValue(&structpb.Struct{})})
	if vs := violations(t, err); !strings.Contains(vs["params_json"], "at most one") {
		t.Fatalf("violations %v", vs)
	}
	// A null Value is no params: params_json alone counts.
	if _, err = s.Call(ctx, &gatewayv1.CallRequest{Method: "open.widget.thing.get", ParamsJson: `{"a":1}`, Params: structpb.NewNullValue()}); err != nil {
		t.Fatal(err)
	}
	// An answer with nothing beside data has empty members.
	c2 := &recordingCaller{body: `{"result":1,"requestId":"r","data":null}`}
	resp, err = NewPlatform(c2, staticTokens{}, nil).Call(ctx, &gatewayv1.CallRequest{Method: "open.widget.thing.get"})
	if err != nil || resp.GetData() != nil || resp.GetMembers() == nil || len(resp.GetMembers().GetFields()) != 0 {
		t.Fatalf("%v %v", resp, err)
	}
}

// Catalogued APIs are checked before the platform: three misspelt params
// give three violations with suggestions, and nothing is sent;
// skip_validation sends them; an uncatalogued API passes through.
func TestPlatformCall_Validation(t *testing.T) {
	t.Parallel()
	c := &recordingCaller{body: `{"result":1}`}
	s := NewPlatform(c, staticTokens{}, nil)
	ctx := context.Background()
	params := `{"orderViewStatus":1,"pageSize":10,"sort":1,"queryType":1,"cursor":"","begintime":1,"endTme":2,"pagesize":3}`
	_, err := s.Call(ctx, &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.order.cursor.list", ParamsJson: params})
	vs := violations(t, err)
	for field, want := range map[string]string{
		"params.begintime": `did you mean "beginTime"`,
		"params.endTme":    `did you mean "endTime"`,
		"params.pagesize":  `did you mean "pageSize"`,
	} {
		if !strings.Contains(vs[field], want) {
			t.Errorf("%s: %q, want %q (all: %v)", field, vs[field], want, vs)
		}
	}
	if len(c.sent()) != 0 {
		t.Fatal("an invalid call reached the platform")
	}
	if _, err := s.Call(ctx, &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.order.cursor.list", ParamsJson: params, SkipValidation: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Call(ctx, &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.widget.thing.get", ParamsJson: `{"anything":1}`}); err != nil {
		t.Fatal(err)
	}
	if n := len(c.sent()); n != 2 {
		t.Fatalf("%d calls sent, want 2", n)
	}
	// The Value form is checked the same way; a wrong type and an integer
	// with a fraction are refused too.
	v, _ := structpb.NewValue(map[string]any{"orderViewStatus": "one", "pageSize": 1.5})
	_, err = s.Call(ctx, &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.order.cursor.list", Params: v})
	vs = violations(t, err)
	if vs["params.orderViewStatus"] == "" || vs["params.pageSize"] == "" {
		t.Fatalf("violations %v", vs)
	}
}

func testPNG(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Files go to the client as sorted platform.Files; for a catalogued API
// only its file fields are taken, and the client's refusal of a file names
// the field.
func TestPlatformCall_Files(t *testing.T) {
	t.Parallel()
	c := &recordingCaller{body: `{"result":1,"data":{"kwaiImgUrl":"u"}}`}
	s := NewPlatform(c, staticTokens{}, nil)
	ctx := context.Background()
	img := testPNG(t)
	_, err := s.Call(ctx, &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.item.image.upload",
		ParamsJson: `{"uploadType":1,"imgUrl":""}`, Files: map[string][]byte{"imgBytes": img}})
	if err != nil {
		t.Fatal(err)
	}
	r := c.sent()[0]
	if len(r.Files) != 1 || r.Files[0].Field != "imgBytes" || !bytes.Equal(r.Files[0].Content, img) {
		t.Fatalf("files %v", r.Files)
	}
	// Not a file field of the API, a missing one, a file field in params.
	for _, tc := range []struct {
		params string
		files  map[string][]byte
		field  string
	}{
		{`{"uploadType":1,"imgUrl":""}`, map[string][]byte{"imgBytes": img, "imgByte": img}, `files["imgByte"]`},
		{`{"uploadType":1,"imgUrl":""}`, nil, `files["imgBytes"]`},
		{`{"uploadType":1,"imgUrl":"","imgBytes":"AAAA"}`, map[string][]byte{"imgBytes": img}, "params.imgBytes"},
	} {
		_, err := s.Call(ctx, &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.item.image.upload", ParamsJson: tc.params, Files: tc.files})
		if vs := violations(t, err); vs[tc.field] == "" {
			t.Errorf("%v: violations %v, want one on %s", tc.files, vs, tc.field)
		}
	}
	if n := len(c.sent()); n != 1 {
		t.Fatalf("%d calls sent", n)
	}
	// The client's refusal (a file that is no image) names the field.
	c.err = &platform.Error{Class: platform.ClassInvalidArgument, Err: &platform.FileError{Field: "imgBytes", Reason: "not an image"}}
	_, err = s.Call(ctx, &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.item.image.upload",
		ParamsJson: `{"uploadType":1,"imgUrl":""}`, Files: map[string][]byte{"imgBytes": []byte("text")}})
	if vs := violations(t, err); vs[`files["imgBytes"]`] != "not an image" {
		t.Fatalf("violations %v", vs)
	}
	c.err = &platform.Error{Class: platform.ClassInvalidArgument, Err: &platform.FileError{Reason: "too many bytes"}}
	_, err = s.Call(ctx, &gatewayv1.CallRequest{OpenId: "shop1", Method: "open.widget.image.upload", Files: map[string][]byte{"a": img}})
	if vs := violations(t, err); vs["files"] != "too many bytes" {
		t.Fatalf("violations %v", vs)
	}
}

func TestSplitAnswer(t *testing.T) {
	t.Parallel()
	data, members, err := SplitAnswer([]byte(`{"result":1,"b":[1],"data":{"x":1},"a":9007199254740993,"b":2,"data":{"y":2},"requestId":"r"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(members)
	if string(data) != `{"y":2}` || string(got) != `[{"Name":"b","Value":2},{"Name":"a","Value":9007199254740993}]` {
		t.Fatalf("data %s members %s", data, got)
	}
	for _, bad := range []string{`[]`, `nope`, `"x"`, `{"a":`} {
		if _, _, err := SplitAnswer([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// GetApi describes an API with its JSON Schemas; ListApis filters.
func TestPlatformDescribe(t *testing.T) {
	t.Parallel()
	s := NewPlatform(&recordingCaller{}, staticTokens{}, nil, WithMaxFileBytes(2<<20))
	ctx := context.Background()
	got, err := s.GetApi(ctx, &gatewayv1.GetApiRequest{Name: "open.order.cursor.list"})
	if err != nil {
		t.Fatal(err)
	}
	a := got.GetApi()
	props := a.GetRequestSchema().GetFields()["properties"].GetStructValue().GetFields()
	if a.GetHttpMethod() != "GET" || props["beginTime"] == nil || props["pageSize"] == nil ||
		a.GetResponseSchema().GetFields()["properties"].GetStructValue().GetFields()["data"] == nil ||
		a.GetLimits().GetAppQps() != 300 || a.GetLimits().GetShopQps() != 300 || a.GetDescription() == "" {
		t.Fatalf("description %v", a)
	}
	upr, err := s.GetApi(ctx, &gatewayv1.GetApiRequest{Name: "open.item.image.upload"})
	up := upr.GetApi()
	if err != nil || strings.Join(up.GetFileFields(), ",") != "imgBytes" || up.GetLimits().GetMaxFileBytes() != 2<<20 {
		t.Fatalf("%v %v", up, err)
	}
	dec, err := s.GetApi(ctx, &gatewayv1.GetApiRequest{Name: "open.order.decrypt.batch"})
	if err != nil || !strings.Contains(strings.Join(dec.GetApi().GetResponseMembers(), ","), "batchDecryptResultList") {
		t.Fatalf("%v %v", dec, err)
	}
	if _, err := s.GetApi(ctx, &gatewayv1.GetApiRequest{Name: "open.no.such.api"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown API: %v", err)
	}

	list := func(req *gatewayv1.ListApisRequest) []string {
		resp, err := s.ListApis(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range resp.GetApis() {
			if a.GetRequestSchema() != nil {
				t.Fatalf("%s: ListApis carries schemas", a.GetName())
			}
			names = append(names, a.GetName())
		}
		return names
	}
	if all := list(&gatewayv1.ListApisRequest{}); len(all) != 278 {
		t.Fatalf("%d APIs listed", len(all))
	}
	if got := list(&gatewayv1.ListApisRequest{UploadsOnly: true}); strings.Join(got, ",") != "open.item.image.upload" {
		t.Fatalf("uploads: %v", got)
	}
	if got := list(&gatewayv1.ListApisRequest{Contains: "DECRYPT", Prefix: "open.order."}); !slicesContain(got, "open.order.decrypt.batch") || slicesContain(got, "open.security.instant.decrypt.batch") {
		t.Fatalf("decrypt in open.order.: %v", got)
	}
	if got := list(&gatewayv1.ListApisRequest{Contains: "上传商品图片"}); !slicesContain(got, "open.item.image.upload") {
		t.Fatalf("by description: %v", got)
	}
	gets, posts := list(&gatewayv1.ListApisRequest{HttpMethod: "GET"}), list(&gatewayv1.ListApisRequest{HttpMethod: "POST"})
	if len(gets)+len(posts) != 278 || !slicesContain(gets, "open.order.cursor.list") || !slicesContain(posts, "open.item.image.upload") {
		t.Fatalf("%d GET, %d POST", len(gets), len(posts))
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// A request message is capped at MaxRequestBytes, one that carries files
// at MaxUploadBytes; larger ones are InvalidArgument, never decoded.
func TestDecodeRequest_SizeCaps(t *testing.T) {
	t.Parallel()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("a", MaxRequestBytes)
	raw, _ := proto.Marshal(&gatewayv1.GetApiRequest{Name: big})
	var get gatewayv1.GetApiRequest
	DecodeRequest(raw, &get)
	if get.GetName() != "" || !strings.Contains(fmt.Sprint(v.check(&get)), "larger than 1048576 bytes") {
		t.Fatalf("oversized GetApiRequest: %v", v.check(&get))
	}
	raw, _ = proto.Marshal(&gatewayv1.CallRequest{Method: "open.item.image.upload", Files: map[string][]byte{"imgBytes": []byte(big + big)}})
	var call gatewayv1.CallRequest
	DecodeRequest(raw, &call)
	if len(call.GetFiles()["imgBytes"]) != 2*MaxRequestBytes {
		t.Fatal("an upload of 2 MiB was not decoded")
	}
	raw, _ = proto.Marshal(&gatewayv1.CallRequest{Method: "open.item.image.upload", Files: map[string][]byte{"imgBytes": make([]byte, MaxUploadBytes)}})
	call.Reset()
	DecodeRequest(raw, &call)
	if len(call.GetFiles()) != 0 || v.check(&call) == nil {
		t.Fatal("an upload past MaxUploadBytes was decoded")
	}
}

// ExactParams never panics; what it accepts is one JSON object, the input
// without its whitespace, with no member name twice in an object.
func FuzzExactParams(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":1,"a":2}`, `[1]`, `{"a":{"b":[1e400,-0,"\u00e9"]}}`, "{\"a\":\"\xff\"}", deepJSON(70), `{"a":1} {}`, ` null `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, bad := ExactParams("params_json", []byte(in))
		if bad != nil {
			if out != nil || bad.Field != "params_json" || bad.Description == "" {
				t.Fatalf("%q: %s %+v", in, out, bad)
			}
			return
		}
		if len(out) == 0 || out[0] != '{' || !json.Valid(out) {
			t.Fatalf("%q accepted as %s", in, out)
		}
		if trimmed := strings.TrimSpace(in); trimmed != "" && trimmed != "null" {
			var want bytes.Buffer
			if err := json.Compact(&want, []byte(in)); err != nil || want.String() != string(out) {
				t.Fatalf("%q sent as %s, want %s", in, out, want.String())
			}
		}
		if _, err := jsontext.NewDecoder(bytes.NewReader(out)).ReadValue(); err != nil {
			t.Fatalf("%q accepted, but %v", in, err)
		}
	})
}
