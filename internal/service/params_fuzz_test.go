package service

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

// FuzzParamsJSON converts arbitrary structpb values (decoded from the fuzz
// bytes as protobuf JSON or, with binary set, as protobuf wire format, which
// also reaches NaN, infinities and unset kinds): it never panics; absent and
// null give {}; an object gives a JSON object that decodes back to the same
// value, with integral numbers up to 2^53 in plain decimal; anything else
// is InvalidArgument with a BadRequest violation on the field. An object
// holding NaN or an infinity may be refused; if it is accepted, those
// numbers are the strings "NaN", "Infinity", "-Infinity" (structpb's JSON
// mapping), never invalid JSON.
func FuzzParamsJSON(f *testing.F) {
	for _, s := range []string{
		`{"orderViewStatus":1,"pageSize":10,"sort":1,"queryType":1,"beginTime":1699900000000,"endTime":1700000000000,"cursor":""}`,
		`{"orderId":2617801683312294,"expressNo":"SF1234567890","expressCode":4,"remark":"短袖 测试"}`,
		`{"a":{"b":[1,2.5,-0,true,null,"x",{"c":[]}]},"big":9007199254740992,"tiny":1e-7,"huge":1e300}`,
		`null`, `[]`, `"s"`, `1`, `true`, `{}`, `{"<&>":"\u0000\ud800"}`,
	} {
		f.Add([]byte(s), false)
	}
	for _, v := range []*structpb.Value{
		structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"nan": structpb.NewNumberValue(math.NaN())}}),
		structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"inf": structpb.NewNumberValue(math.Inf(-1)), "unset": {}}}),
		structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{{}}}),
		{},
	} {
		b, err := proto.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true)
	}

	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		v := &structpb.Value{}
		var err error
		if binary {
			// Unknown fields are ignored by ParamsJSON (and by the comparison).
			err = proto.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, v)
		} else {
			err = protojson.Unmarshal(data, v)
		}
		if err != nil {
			return // not a Value: the transport rejects it before ParamsJSON
		}
		in := proto.Clone(v)
		out, err := ParamsJSON("params", v)
		if !proto.Equal(in, v) {
			t.Fatal("ParamsJSON modified its input")
		}
		sv, isStruct := v.GetKind().(*structpb.Value_StructValue)
		switch v.GetKind().(type) {
		case nil, *structpb.Value_NullValue:
			if err != nil || string(out) != "{}" {
				t.Fatalf("absent/null params = %s, %v; want {}", out, err)
			}
			return
		}
		if err != nil {
			st, ok := status.FromError(err)
			if !ok || st.Code() != codes.InvalidArgument {
				t.Fatalf("error %v is not InvalidArgument", err)
			}
			var violated bool
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, fv := range br.GetFieldViolations() {
						violated = violated || fv.GetField() == "params" || strings.HasPrefix(fv.GetField(), "params.") || strings.HasPrefix(fv.GetField(), "params[")
					}
				}
			}
			if !violated {
				t.Fatalf("error %v has no BadRequest violation on params", err)
			}
			if isStruct && finite(v) {
				t.Fatalf("a finite object %v was refused: %v", v, err)
			}
			return
		}
		if !isStruct {
			t.Fatalf("a non-object %v was accepted as %s", v, out)
		}
		if !json.Valid(out) || !bytes.HasPrefix(out, []byte("{")) {
			t.Fatalf("output %q is not a JSON object", out)
		}
		var back map[string]any
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		got, err := structpb.NewStruct(back)
		if err != nil {
			t.Fatal(err)
		}
		if want := normalize(structpb.NewStructValue(sv.StructValue)).GetStructValue(); !proto.Equal(got, want) {
			t.Fatalf("round trip:\n got %v\nwant %v\njson %s", got, want, out)
		}
		// Integral numbers below 1e21 are written in plain decimal with
		// every digit of the double (ids and millisecond timestamps; 1e16 is
		// 10000000000000000, not 1e+16), so an integer parser gets the value
		// the caller's double holds.
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			n, ok := tok.(json.Number)
			if !ok {
				continue
			}
			fl, err := n.Float64()
			if err != nil || fl != math.Trunc(fl) || math.Abs(fl) >= 1e21 {
				continue
			}
			exact, _ := new(big.Float).SetFloat64(fl).Int(nil)
			if strings.ContainsAny(string(n), ".eE") || strings.TrimPrefix(string(n), "-") != new(big.Int).Abs(exact).String() {
				t.Fatalf("integral number %v written as %s, want %s", fl, n, exact)
			}
		}
	})
}

// finite reports whether every number in v is finite.
func finite(v *structpb.Value) bool {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NumberValue:
		return !math.IsNaN(k.NumberValue) && !math.IsInf(k.NumberValue, 0)
	case *structpb.Value_StructValue:
		for _, f := range k.StructValue.GetFields() {
			if !finite(f) {
				return false
			}
		}
	case *structpb.Value_ListValue:
		for _, e := range k.ListValue.GetValues() {
			if !finite(e) {
				return false
			}
		}
	}
	return true
}

// normalize returns v as JSON sees it: an unset kind is null, an unset
// struct or list is empty, a non-finite number is structpb's string form.
func normalize(v *structpb.Value) *structpb.Value {
	switch k := v.GetKind().(type) {
	case nil, *structpb.Value_NullValue: // any NullValue number (open enum on the wire) is JSON null
		return structpb.NewNullValue()
	case *structpb.Value_StructValue:
		s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
		for name, f := range k.StructValue.GetFields() {
			s.Fields[name] = normalize(f)
		}
		return structpb.NewStructValue(s)
	case *structpb.Value_NumberValue:
		switch n := k.NumberValue; {
		case math.IsNaN(n):
			return structpb.NewStringValue("NaN")
		case math.IsInf(n, 1):
			return structpb.NewStringValue("Infinity")
		case math.IsInf(n, -1):
			return structpb.NewStringValue("-Infinity")
		}
	case *structpb.Value_ListValue:
		l := &structpb.ListValue{}
		for _, e := range k.ListValue.GetValues() {
			l.Values = append(l.Values, normalize(e))
		}
		return structpb.NewListValue(l)
	}
	return v
}

func TestParamsJSON_ExactDigits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{1700000000000, "1700000000000"},
		{1e16, "10000000000000000"},
		{9007199254740993, "9007199254740992"}, // the double the caller sent
		{1234567890123456789, "1234567890123456768"},
		{-9223372036854775808, "-9223372036854775808"},
		{1 << 63, "9223372036854775808"},
		{1e20, "100000000000000000000"},
		{1e21, "1e+21"},
		{0.1, "0.1"},
		{19.99, "19.99"},
		{1e-7, "1e-7"},
		{-2.5e-300, "-2.5e-300"},
	} {
		v := structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"n": structpb.NewNumberValue(tc.n)}})
		out, err := ParamsJSON("params", v)
		if want := `{"n":` + tc.want + `}`; err != nil || string(out) != want {
			t.Errorf("%v: %s, %v; want %s", tc.n, out, err, want)
		}
	}
	// Keys sorted, strings as encoding/json writes them, nesting kept.
	v, err := structpb.NewValue(map[string]any{"b": []any{true, nil, "<&>"}, "a": map[string]any{"z": 1.5, "y": "短袖"}})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := ParamsJSON("params", v); err != nil || string(out) != `{"a":{"y":"短袖","z":1.5},"b":[true,null,"\u003c\u0026\u003e"]}` {
		t.Fatalf("%s %v", out, err)
	}
}

func TestSentNumber(t *testing.T) {
	t.Parallel()
	for lit, want := range map[string]bool{
		"0": true, "-0": true, "-0.0": true, "123": true, "999999999999999": true,
		"9007199254740992": true, "9007199254740993": false, "9007199254740994": true,
		"-9223372036854775807": false, "-9223372036854775808": true, "1234567890123456768": true, "1234567890123456789": false,
		"1e2": true, "100.000": true, "1.7e12": true, "2.5E+3": true, "1e20": true, "1e21": true, "1e22": true, "1e23": true, // written 1e+23: the same value
		"0.1": true, "19.99": true, "0.30000000000000004": true, "0.1000000000000000000000000001": false,
		"1e-7": true, "4.9e-324": false, "5e-324": true, "1e-400": false, "1e400": false, "-1e400": false,
		"123456789012345678901234567890": false, "0e99999999999999999999": true, "1e99999999999999999999": false,
	} {
		if _, got := SentNumber(lit); got != want {
			t.Errorf("SentNumber(%s) exact = %v, want %v", lit, got, want)
		}
	}
}

// FuzzSentNumber: for any JSON number, SentNumber gives the number
// ParamsJSON writes for its double, and says exact when that has exactly
// the literal's value (checked with exact rational arithmetic).
func FuzzSentNumber(f *testing.F) {
	for _, s := range []string{"0", "-0.0", "9007199254740993", "1e2", "0.1", "1e23", "4.9e-324", "123456789012345678901", "1.000000000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		dec := json.NewDecoder(strings.NewReader(lit))
		dec.UseNumber()
		tok, err := dec.Token()
		n, isNum := tok.(json.Number)
		if err != nil || !isNum || string(n) != lit || len(lit) > 400 {
			return // not exactly one JSON number (or too long for big.Rat below)
		}
		if _, exp, _ := strings.Cut(strings.ToLower(lit), "e"); exp != "" {
			if e, err := strconv.Atoi(exp); err != nil || e > 400 || e < -400 {
				return // big.Rat would build a huge power of ten
			}
		}
		sent, got := SentNumber(lit)
		want, wantSent := false, ""
		if fl, err := strconv.ParseFloat(lit, 64); err == nil {
			wantSent = string(appendNumber(nil, fl))
			a, okA := new(big.Rat).SetString(lit)
			b, okB := new(big.Rat).SetString(wantSent)
			want = okA && okB && a.Cmp(b) == 0
		}
		if got != want || sent != wantSent {
			t.Fatalf("SentNumber(%s) = %q, %v; want %q, %v", lit, sent, got, wantSent, want)
		}
	})
}

// deepParams is a CallRequest whose params are depth nested lists (depth
// levels), in wire form.
func deepParams(t testing.TB, depth int) []byte {
	t.Helper()
	v := structpb.NewNumberValue(1)
	for range depth {
		v = structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{v}})
	}
	b, err := proto.Marshal(&gatewayv1.CallRequest{OpenId: "shop", Method: "open.shop.info.get", Params: v})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRequest(t *testing.T) {
	t.Parallel()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		wire  []byte
		field string // "" with ok: accepted
		ok    bool
	}{
		{"at_params_depth", deepParams(t, MaxParamsDepth), "", true},
		{"past_params_depth", deepParams(t, MaxParamsDepth+1), "params", false},
		{"past_wire_depth", deepParams(t, 5000), "params", false}, // grpc's own decoder: Internal
		{"truncated", deepParams(t, 3)[:10], "", false},
		{"invalid_utf8", protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "\xff"), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &gatewayv1.CallRequest{}
			DecodeRequest(tc.wire, m)
			err := v.check(m)
			if tc.ok {
				want := &gatewayv1.CallRequest{}
				if err != nil || proto.Unmarshal(tc.wire, want) != nil || !proto.Equal(m, want) {
					t.Fatalf("decoded %v (%v), want %v", m, err, want)
				}
				return
			}
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("%v", err)
			}
			var fields []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, fv := range br.GetFieldViolations() {
						fields = append(fields, fv.GetField())
					}
				}
			}
			if len(fields) != 1 || fields[0] != tc.field {
				t.Fatalf("violations on %q, want %q", fields, tc.field)
			}
		})
	}
	// The mark names only real fields: a forged one echoes nothing.
	m := &gatewayv1.CallRequest{}
	DecodeRequest(protowire.AppendBytes(protowire.AppendTag(nil, decodeMark, protowire.BytesType), []byte("\x01<script>")), m)
	if err := v.check(m); status.Code(err) != codes.InvalidArgument || strings.Contains(err.Error(), "script") {
		t.Fatalf("forged mark: %v", err)
	}
}

// FuzzDecodeRequest: any bytes decode without panic into a CallRequest
// that is either what proto.Unmarshal makes of them or refused as
// InvalidArgument by the validator; never anything else.
func FuzzDecodeRequest(f *testing.F) {
	for _, d := range []int{0, 2, MaxParamsDepth + 1} {
		f.Add(deepParams(f, d))
	}
	f.Add([]byte{0x0a, 0x05, 'a'})
	v, err := NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &gatewayv1.CallRequest{}
		DecodeRequest(b, m)
		err := v.check(m)
		if err != nil {
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("%v", err)
			}
			return
		}
		want := &gatewayv1.CallRequest{}
		if uerr := proto.Unmarshal(b, want); uerr != nil || !proto.Equal(m, want) {
			t.Fatalf("accepted %v, proto.Unmarshal gives %v (%v)", m, want, uerr)
		}
	})
}
