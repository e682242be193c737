package service

import (
	"context"
	"errors"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Validator enforces the protovalidate rules declared in the protos, in one
// interceptor for every RPC, and reports violations as BadRequest field
// violations.
type Validator struct{ v protovalidate.Validator }

// NewValidator builds the validator.
func NewValidator() (*Validator, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, err
	}
	return &Validator{v: v}, nil
}

func (v *Validator) check(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	err := v.v.Validate(msg)
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
