package app

import (
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/service"
)

// requestCodec is the gRPC server's codec: grpc's proto codec, except that
// requests are decoded by service.DecodeRequest. grpc answers any decoding
// error with Internal; DecodeRequest never fails and marks a request it
// could not take (nested too deep, malformed) so that the validator answers
// InvalidArgument naming the field. It is the server's codec only
// (grpc.ForceServerCodecV2): clients in this process, the REST gateway's
// included, keep grpc's own.
type requestCodec struct{ base encoding.CodecV2 }

func newRequestCodec() requestCodec { return requestCodec{base: encoding.GetCodecV2(grpcproto.Name)} }

func (c requestCodec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return c.base.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	service.DecodeRequest(buf.ReadOnlyData(), m)
	return nil
}

func (requestCodec) Name() string { return grpcproto.Name }
