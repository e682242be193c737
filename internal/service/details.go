package service

import (
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

type protoadapter = protoadapt.MessageV1

func withDetails(st *status.Status, details ...protoadapter) error {
	withD, err := st.WithDetails(details...)
	if err != nil {
		return st.Err()
	}
	return withD.Err()
}
