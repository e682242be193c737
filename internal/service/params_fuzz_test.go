package service

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
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
		// Integral numbers that fit a float64 exactly are written in plain
		// decimal (ids and millisecond timestamps).
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
			if fl, err := n.Float64(); err == nil && fl == math.Trunc(fl) && math.Abs(fl) <= 1<<53 && strings.ContainsAny(string(n), ".eE") {
				t.Fatalf("integral number %v written as %s", fl, n)
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
