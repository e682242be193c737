package service

import (
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// objectParams are params as callers send them: an object with nested
// members (the README's order list call).
func objectParams(t testing.TB) *structpb.Value {
	t.Helper()
	v, err := structpb.NewValue(map[string]any{
		"cursor": "", "limit": 20, "queryType": 1, "sort": 1,
		"beginTime": 1700000000000, "endTime": 1700086400000,
		"orderViewStatus": []any{1, 2, 3}, "extra": map[string]any{"a": []any{map[string]any{"b": "c"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func violatedFields(t *testing.T, err error) []string {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("err = %v, want InvalidArgument", err)
	}
	var out []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				out = append(out, fv.GetField())
			}
		}
	}
	slices.Sort(out)
	return out
}

// Skipping the rule-less well-known Value types leaves every declared rule
// in force: the fields beside params, the files map's keys and values, and
// the nesting cap of params itself.
func TestValidator_RulesBesideParams(t *testing.T) {
	t.Parallel()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.check(&gatewayv1.CallRequest{Method: "open.order.cursor.list", OpenId: "shop_1", Params: objectParams(t)}); err != nil {
		t.Fatalf("a valid call: %v", err)
	}
	bad := &gatewayv1.CallRequest{
		Method: "not.a method", OpenId: "shop 1", Version: 100, AppKey: "a/b",
		Params: objectParams(t),
		Files:  map[string][]byte{"1bad": []byte("x"), "empty": nil},
	}
	got := violatedFields(t, v.check(bad))
	want := []string{"app_key", "files[\"1bad\"]", "files[\"empty\"]", "method", "open_id", "version"}
	if !slices.Equal(got, want) {
		t.Fatalf("violations on %v, want %v", got, want)
	}
	if got := violatedFields(t, v.check(&gatewayv1.CallRequest{OpenId: "shop_1", Params: objectParams(t)})); !slices.Equal(got, []string{"method"}) {
		t.Fatalf("no method: violations on %v", got)
	}
	deep := structpb.NewNullValue()
	for range MaxParamsDepth + 1 {
		deep = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{deep}})
	}
	if got := violatedFields(t, v.check(&gatewayv1.CallRequest{Method: "open.shop.info.get", Params: deep})); !slices.Equal(got, []string{"params"}) {
		t.Fatalf("params too deep: violations on %v", got)
	}
}

// BenchmarkValidator_Call is the validation interceptor's work on one
// CallRequest with object params.
func BenchmarkValidator_Call(b *testing.B) {
	v, err := NewValidator()
	if err != nil {
		b.Fatal(err)
	}
	req := &gatewayv1.CallRequest{Method: "open.order.cursor.list", OpenId: "shop_1", Params: objectParams(b)}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.check(req); err != nil {
			b.Fatal(err)
		}
	}
}
