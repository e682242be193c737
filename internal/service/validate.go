package service

import (
	"context"
	"errors"
	"strconv"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/platform"
)

// Validator enforces the protovalidate rules declared in the protos, in one
// interceptor for every RPC, and reports violations as BadRequest field
// violations. Before those rules it refuses requests the decoder could not
// take (see DecodeRequest) and Value fields nested deeper than
// MaxParamsDepth.
type Validator struct {
	v    protovalidate.Validator
	opts []protovalidate.ValidationOption // built once: skipRuleless
}

// NewValidator builds the validator.
func NewValidator() (*Validator, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, err
	}
	return &Validator{v: v, opts: []protovalidate.ValidationOption{protovalidate.WithFilter(skipRuleless)}}, nil
}

// skipRuleless keeps protovalidate out of google.protobuf.Value, Struct and
// ListValue: they declare no rules, yet protovalidate cannot tell (they are
// recursive), so it would walk every member of CallRequest.params on each
// call. The rules of the field that holds them are still evaluated (there
// the message passed is the holder); deepValue bounds their nesting.
var skipRuleless = protovalidate.FilterFunc(func(m protoreflect.Message, _ protoreflect.Descriptor) bool {
	return !isValueType(m.Descriptor())
})

func (v *Validator) check(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	if err := checkDecoded(msg.ProtoReflect()); err != nil {
		return err
	}
	if path, deep := deepValue(msg.ProtoReflect(), "", 0); deep {
		return InvalidArgument(FieldViolation{Field: path, Description: ParamsTooDeep})
	}
	err := v.v.Validate(msg, v.opts...)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return InvalidArgument(FieldViolation{Field: "", Description: "request could not be validated"})
	}
	vs := make([]FieldViolation, 0, len(verr.Violations))
	for _, viol := range verr.Violations {
		vs = append(vs, FieldViolation{
			Field:       protovalidate.FieldPathString(viol.Proto.GetField()),
			Description: viol.Proto.GetMessage(),
		})
	}
	return InvalidArgument(vs...)
}

// Unary validates each unary request.
func (v *Validator) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if err := v.check(req); err != nil {
			return nil, err
		}
		return h(ctx, req)
	}
}

// Stream validates each message a client streams in.
func (v *Validator) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return h(srv, &validatingStream{ServerStream: ss, v: v})
	}
}

type validatingStream struct {
	grpc.ServerStream
	v *Validator
}

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.v.check(m)
}

// MaxParamsDepth is how deeply a google.protobuf.Value field (CallRequest
// params) may nest objects and arrays: params itself is level 1, so
// {"a":[[1]]} is 3 levels. Deeper requests are InvalidArgument on the
// field, over gRPC and REST alike.
const MaxParamsDepth = 64

// ParamsTooDeep describes a Value field nested past MaxParamsDepth.
var ParamsTooDeep = "objects and arrays nested deeper than " + strconv.Itoa(MaxParamsDepth) + " levels"

// maxWireDepth bounds the message nesting DecodeRequest decodes: far above
// any request within MaxParamsDepth (a params level is at most three
// message levels: Value, Struct, its map entry), far below the depth at
// which decoding one request takes megabytes of stack.
const maxWireDepth = 512

// decodeMark is the unknown field DecodeRequest adds to a request it could
// not decode; checkDecoded turns it into InvalidArgument. Its payload is
// one reason byte and the name of the top-level field at fault ("" for the
// whole message).
const decodeMark protowire.Number = protowire.MaxValidNumber

const (
	markTooDeep   = 1
	markMalformed = 2
	markTooLarge  = 3
)

// MaxRequestBytes caps a request message, except the messages that carry
// files (uploadRequests), capped at MaxUploadBytes: the gRPC server's own
// cap is MaxUploadBytes, and DecodeRequest applies this one.
const (
	MaxRequestBytes = 1 << 20
	MaxUploadBytes  = MaxRequestBytes + platform.DefaultMaxFileBytes
)

// uploadRequests are the request messages that carry files.
var uploadRequests = map[protoreflect.FullName]bool{
	"kwaishop.gateway.v1.CallRequest":        true,
	"kwaishop.gateway.v1.UploadImageRequest": true,
}

// MaxMessageBytes is the size cap of a request message of type md.
func MaxMessageBytes(md protoreflect.MessageDescriptor) int {
	if uploadRequests[md.FullName()] {
		return MaxUploadBytes
	}
	return MaxRequestBytes
}

// DecodeRequest decodes a request received over gRPC. A request larger
// than MaxMessageBytes is left empty and marked. It never fails: the
// gRPC server would answer a decoding error with Internal, yet a request
// that cannot be decoded is the caller's mistake. A request nested deeper
// than maxWireDepth is decoded without the top-level field holding that
// nesting (so decoding stays shallow), an undecodable one is left empty,
// and either is marked so that the Validator answers InvalidArgument.
func DecodeRequest(b []byte, m proto.Message) {
	r := m.ProtoReflect()
	mark := func(reason byte, field string) {
		r.SetUnknown(protowire.AppendBytes(protowire.AppendTag(r.GetUnknown(), decodeMark, protowire.BytesType), append([]byte{reason}, field...)))
	}
	if len(b) > MaxMessageBytes(r.Descriptor()) {
		mark(markTooLarge, "")
		return
	}
	if fd := deepField(b, r.Descriptor()); fd != nil {
		if err := proto.Unmarshal(dropField(b, fd.Number()), m); err != nil {
			proto.Reset(m)
			mark(markMalformed, "")
			return
		}
		mark(markTooDeep, string(fd.Name()))
		return
	}
	if err := proto.Unmarshal(b, m); err != nil {
		proto.Reset(m)
		mark(markMalformed, "")
	}
}

// deepField scans the wire form of a message of type md without recursion
// and returns the top-level field under which message fields nest deeper
// than maxWireDepth (nil if none, or if the data is malformed: decoding
// reports that).
func deepField(b []byte, md protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	type frame struct {
		b  []byte
		md protoreflect.MessageDescriptor
	}
	stack := []frame{{b, md}}
	var top protoreflect.FieldDescriptor
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if len(f.b) == 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		num, typ, n := protowire.ConsumeTag(f.b)
		if n < 0 {
			return nil
		}
		f.b = f.b[n:]
		fd := f.md.Fields().ByNumber(num)
		if len(stack) == 1 {
			top = fd
		}
		if fd != nil && fd.Kind() == protoreflect.MessageKind && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(f.b)
			if n < 0 {
				return nil
			}
			f.b = f.b[n:]
			if len(stack) >= maxWireDepth {
				return top
			}
			stack = append(stack, frame{v, fd.Message()}) // a map field's message is its entry
			continue
		}
		if n = protowire.ConsumeFieldValue(num, typ, f.b); n < 0 {
			return nil
		}
		f.b = f.b[n:]
	}
	return nil
}

// dropField returns the wire form of a message without its top-level field
// num (b is well-formed up to that field's last occurrence: deepField
// walked it).
func dropField(b []byte, num protowire.Number) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		n0, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return append(out, b...)
		}
		m := protowire.ConsumeFieldValue(n0, typ, b[n:])
		if m < 0 {
			return append(out, b...)
		}
		if n0 != num {
			out = append(out, b[:n+m]...)
		}
		b = b[n+m:]
	}
	return out
}

// checkDecoded answers a request DecodeRequest marked.
func checkDecoded(r protoreflect.Message) error {
	for raw := r.GetUnknown(); len(raw) > 0; {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return nil
		}
		raw = raw[n:]
		m := protowire.ConsumeFieldValue(num, typ, raw)
		if m < 0 {
			return nil
		}
		if num == decodeMark && typ == protowire.BytesType {
			payload, _ := protowire.ConsumeBytes(raw)
			field := ""
			if len(payload) > 1 && r.Descriptor().Fields().ByName(protoreflect.Name(payload[1:])) != nil {
				field = string(payload[1:]) // only a real field's name is echoed
			}
			if len(payload) > 0 && payload[0] == markTooDeep {
				return InvalidArgument(FieldViolation{Field: field, Description: ParamsTooDeep})
			}
			if len(payload) > 0 && payload[0] == markTooLarge {
				return InvalidArgument(FieldViolation{Description: "the request is larger than " + strconv.Itoa(MaxMessageBytes(r.Descriptor())) + " bytes"})
			}
			return InvalidArgument(FieldViolation{Field: field, Description: "not a valid protobuf encoding of the request (malformed data or a string that is not UTF-8)"})
		}
		raw = raw[m:]
	}
	return nil
}

// deepValue finds a google.protobuf.Value, Struct or ListValue field in a
// request that nests objects and arrays deeper than MaxParamsDepth and
// returns its path. level counts the message levels walked (requests are
// shallow; maxWireDepth bounds them anyway).
func deepValue(m protoreflect.Message, path string, level int) (string, bool) {
	if level > maxWireDepth {
		return path, true
	}
	var found string
	var deep bool
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		p := string(fd.Name())
		if path != "" {
			p = path + "." + p
		}
		check := func(p string, e protoreflect.Message) bool {
			if tooDeep(e.Interface(), 1) {
				found, deep = p, true
			} else if !isValueType(e.Descriptor()) {
				found, deep = deepValue(e, p, level+1)
			}
			return !deep
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				if !check(p+"["+strconv.Itoa(i)+"]", l.Get(i).Message()) {
					return false
				}
			}
		case fd.IsMap():
			if fd.MapValue().Kind() != protoreflect.MessageKind {
				return true
			}
			v.Map().Range(func(k protoreflect.MapKey, e protoreflect.Value) bool {
				return check(p+"["+strconv.Quote(k.String())+"]", e.Message())
			})
		default:
			check(p, v.Message())
		}
		return !deep
	})
	return found, deep
}

func isValueType(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.Value", "google.protobuf.Struct", "google.protobuf.ListValue":
		return true
	}
	return false
}

// tooDeep reports whether a Value, Struct or ListValue nests objects and
// arrays past MaxParamsDepth; level is the level of m's own object or
// array. It stops at the first level past the limit.
func tooDeep(m proto.Message, level int) bool {
	switch x := m.(type) {
	case *structpb.Value:
		switch k := x.GetKind().(type) {
		case *structpb.Value_StructValue:
			return tooDeep(k.StructValue, level)
		case *structpb.Value_ListValue:
			return tooDeep(k.ListValue, level)
		}
	case *structpb.Struct:
		if level > MaxParamsDepth {
			return true
		}
		for _, f := range x.GetFields() {
			if tooDeep(f, level+1) {
				return true
			}
		}
	case *structpb.ListValue:
		if level > MaxParamsDepth {
			return true
		}
		for _, e := range x.GetValues() {
			if tooDeep(e, level+1) {
				return true
			}
		}
	}
	return false
}
