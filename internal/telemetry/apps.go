package telemetry

import "go.opentelemetry.io/otel/attribute"

// App label values that are not app keys.
const (
	AppOther = "other" // an app key the gateway does not serve
	AppNone  = "none"  // no app named, with several apps
)

// appLabels bound the app label (AttrAppKey) to the apps the gateway
// serves: a label is a small set, and an app key that reaches a metric
// from outside (a pushed message's appKey) must not grow it.
type appLabels struct {
	byKey map[string]attribute.KeyValue
	only  string // the key of the only app; "" with none or several
	other attribute.KeyValue
	none  attribute.KeyValue
}

func newAppLabels(keys []string) *appLabels {
	l := &appLabels{byKey: map[string]attribute.KeyValue{}, other: attribute.String(AttrAppKey, AppOther), none: attribute.String(AttrAppKey, AppNone)}
	for _, k := range keys {
		if k != "" {
			l.byKey[k] = attribute.String(AttrAppKey, k)
		}
	}
	if len(l.byKey) == 1 {
		for k := range l.byKey {
			l.only = k
		}
	}
	return l
}

// key is appKey when the gateway serves it, the only app's for "" with one
// app, else "".
func (l *appLabels) key(appKey string) string {
	if appKey == "" {
		return l.only
	}
	if _, ok := l.byKey[appKey]; ok {
		return appKey
	}
	return ""
}

// label is the app label of appKey: the key itself when the gateway serves
// it ("" is the only app), else AppNone ("") or AppOther.
func (l *appLabels) label(appKey string) attribute.KeyValue {
	if k := l.key(appKey); k != "" {
		return l.byKey[k]
	}
	if appKey == "" {
		return l.none
	}
	return l.other
}
