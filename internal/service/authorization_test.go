package service

import (
	"encoding/base64"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
)

func TestPageToken(t *testing.T) {
	t.Parallel()
	active := gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_ACTIVE
	for _, openID := range []string{"f1a2b3", "shop_1-A", "a", "x\x00y"} {
		tok := encodePageToken(pageFilterOf(active, ""), openID)
		if got, err := decodePageToken(tok, pageFilterOf(active, "")); err != nil || got != openID {
			t.Fatalf("%q: round trip %q, %v", openID, got, err)
		}
	}
	tok := encodePageToken(pageFilterOf(active, ""), "f1a2b3")
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-pageTokenCheck-1] ^= 1 // a different open_id, old check
	for name, bad := range map[string]string{
		"garbage":          "garbage",
		"not_base64":       "%%%",
		"padded":           tok + "==",
		"truncated":        tok[:len(tok)-2],
		"extended":         tok + "A",
		"tampered":         base64.RawURLEncoding.EncodeToString(flipped),
		"old_unchecked":    base64.RawURLEncoding.EncodeToString([]byte("f1a2b3")),
		"other_filter":     encodePageToken(pageFilterOf(gatewayv1.AuthorizationStatus_AUTHORIZATION_STATUS_REVOKED, ""), "f1a2b3"),
		"empty_position":   encodePageToken(pageFilterOf(active, ""), ""),
		"only_check_bytes": base64.RawURLEncoding.EncodeToString(raw[len(raw)-pageTokenCheck:]),
	} {
		_, err := decodePageToken(bad, pageFilterOf(active, ""))
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument || len(st.Details()) < 2 {
			t.Errorf("%s: %v", name, err)
		}
	}
}
