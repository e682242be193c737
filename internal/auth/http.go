package auth

import (
	"context"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// HTTP guards a plain HTTP route (not the REST gateway, whose calls the
// gRPC interceptors check): the caller needs a key with group and all
// shops (such routes span shops). Refusals are JSON google.rpc.Status
// bodies, like the REST gateway's, with 401 or 403 and, on 401, a
// WWW-Authenticate: Bearer challenge.
func (a *Authenticator) HTTP(group string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.Enabled() {
			h.ServeHTTP(w, r)
			return
		}
		k, err := a.fromHeader(r.Header.Values("Authorization"))
		if err == nil && !k.AllowsGroup(group) {
			err = &Error{Code: codes.PermissionDenied, Key: k.Name, Msg: "API key \"" + k.Name + "\" may not call " + r.URL.Path + " (group " + group + ")"}
		}
		if err == nil && !k.AllShops() {
			err = &Error{Code: codes.PermissionDenied, Key: k.Name, Msg: "API key \"" + k.Name + "\" is limited to shops: " + r.URL.Path + " spans shops (use a key with shop=*)"}
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyCtx{}, k)))
	})
}

func (a *Authenticator) writeError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.InfoContext(r.Context(), "http request refused", "path", r.URL.Path, "reason", err.Error(), "peer", r.RemoteAddr)
	st, _ := status.FromError(a.status(r.Context(), err))
	code := http.StatusForbidden
	if st.Code() == codes.Unauthenticated {
		code = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="kwaishop-gateway"`)
	}
	body, _ := protojson.Marshal(st.Proto())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
