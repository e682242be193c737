package app

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	gatewayv1 "github.com/kwaishop-gateway/kwaishop-gateway/gen/kwaishop/gateway/v1"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/config"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/sandbox"
)

func TestZZScratch(t *testing.T) {
	a, b := newAppSpec("ksAppA01", config.AppOnline, config.AppThirdParty), newAppSpec("ksAppB02", config.AppTest, config.AppSelfUse)
	sb, srv := appsSandbox(t, a, b)
	g := appsGateway(t, srv.URL, func(c *config.Config) { c.Store.NATSListen = "127.0.0.1:0" }, a, b)
	shopA := authorizeApp(t, g, a.key)
	msgs0 := gatewayv1.NewMessageServiceClient(g.conn)
	r0, err0 := msgs0.ListMessages(withKey(appsKeyOps), &gatewayv1.ListMessagesRequest{OpenIds: []string{shopA}})
	t.Logf("before: %d %v", len(r0.GetMessages()), err0)
	view, _ := sb.App(a.key)
	u := "http://" + g.info.HTTPAddr + PushPath
	view.SetPusher(sandbox.PusherUpdate{URL: &u})
	view.CreateOrder(sandbox.OrderSpec{TestUser: 1})
	shopB := authorizeApp(t, g, b.key)
	viewB, _ := sb.App(b.key)
	uB := "http://" + g.info.HTTPAddr + PushPath + "/" + b.key
	viewB.SetPusher(sandbox.PusherUpdate{URL: &uB})
	viewB.CreateOrder(sandbox.OrderSpec{TestUser: 1})
	sb.WaitPushes(context.Background())
	t.Logf("pushes B %+v shopB %s", viewB.Pushes(), shopB)
	nc, err := nats.Connect(g.info.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	s, _ := js.Stream(context.Background(), "KWAISHOP_MESSAGES")
	info, _ := s.Info(context.Background(), jetstream.WithSubjectFilter(">"))
	msgs := gatewayv1.NewMessageServiceClient(g.conn)
	for _, q := range []*gatewayv1.ListMessagesRequest{{}, {OpenIds: []string{shopA}}, {EventTypes: []string{"kwaishop_order_addOrder"}}, {OpenIds: []string{shopA}, PageSize: 10}} {
		r, err := msgs.ListMessages(withKey(appsKeyOps), q)
		t.Logf("q %v: %d %v", q, len(r.GetMessages()), err)
	}
	t.Logf("shop %s subjects %v config %+v", shopA, info.State.Subjects, info.Config.Subjects)
}
