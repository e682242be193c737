package webhook

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message/msglog"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/token"
)

// Event type families. An event type is "<family>.<name>"; see ParseTypes.
const (
	FamilyMessage       = "message"
	FamilyAuthorization = "authorization"
	FamilyWebhook       = "webhook"

	// TypeEndpointDisabled is announced when the gateway disables an
	// endpoint that failed for too long.
	TypeEndpointDisabled = "webhook.endpoint_disabled"
	// TypeTest is the event SendTest sends (never subscribed to).
	TypeTest = "webhook.test"

	itemEventPrefix = message.ItemEventPrefix
)

// Limits on an endpoint's filters (the API enforces them too).
const (
	MaxEventTypes = 32
	MaxOpenIDs    = 64
	maxTypeLen    = 128
)

// knownMessageEvents are the platform's event names (internal/message);
// item events are named kwaishop_item_<something>.
var knownMessageEvents = []string{
	message.EventOrderCreated, message.EventOrderPaid, message.EventOrderShipped, message.EventOrderReceived,
	message.EventOrderSucceeded, message.EventOrderFailed, message.EventOrderAddressChange, message.EventOrderAddressAudit,
	message.EventOrderNote, message.EventOrderFeeChange, message.EventRefundCreated, message.EventRefundUpdated,
}

// knownAuthorizationEvents are the token manager's lifecycle events.
var knownAuthorizationEvents = []string{
	string(token.EventAuthorized), string(token.EventRefreshed), string(token.EventRefreshFailed), string(token.EventRevoked),
	string(token.EventExpired), string(token.EventExpiringSoon), string(token.EventTestUserCutoff), string(token.EventDeleted),
	string(token.EventSubscriptionExpired),
}

var (
	eventName = regexp.MustCompile(`^[A-Za-z0-9_]{1,100}$`)
	openIDRe  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// typeFilter is an endpoint's parsed event types.
type typeFilter struct {
	allMessages   bool
	messageExact  []string // event names
	messagePrefix []string // name prefixes
	authzAll      bool
	authz         []string
	webhookEvents bool
}

// ParseTypes checks event types; the violations name the offending entry
// (field event_types[i]).
func ParseTypes(types []string) (typeFilter, []Violation) {
	var f typeFilter
	var vs []Violation
	bad := func(i int, format string, a ...any) {
		vs = append(vs, Violation{Field: fmt.Sprintf("event_types[%d]", i), Description: fmt.Sprintf(format, a...)})
	}
	if len(types) == 0 {
		vs = append(vs, Violation{Field: "event_types", Description: "name at least one event type, such as message.* or authorization.revoked"})
	}
	if len(types) > MaxEventTypes {
		vs = append(vs, Violation{Field: "event_types", Description: fmt.Sprintf("at most %d event types", MaxEventTypes)})
		return f, vs
	}
	seen := map[string]bool{}
	for i, t := range types {
		if len(t) > maxTypeLen {
			bad(i, "longer than %d bytes", maxTypeLen)
			continue
		}
		if seen[t] {
			bad(i, "repeated")
			continue
		}
		seen[t] = true
		family, name, ok := strings.Cut(t, ".")
		if !ok {
			bad(i, "want <family>.<name>: message.<event>, authorization.<event> or webhook.endpoint_disabled")
			continue
		}
		switch family {
		case FamilyMessage:
			switch {
			case name == "*":
				f.allMessages = true
			case strings.HasSuffix(name, "*"):
				p := strings.TrimSuffix(name, "*")
				if !eventName.MatchString(p) || !knownMessagePrefix(p) {
					bad(i, "unknown message event prefix %q: no platform event starts with it", p)
					continue
				}
				f.messagePrefix = append(f.messagePrefix, p)
			case eventName.MatchString(name) && (slices.Contains(knownMessageEvents, name) || (strings.HasPrefix(name, itemEventPrefix) && len(name) > len(itemEventPrefix))):
				f.messageExact = append(f.messageExact, name)
			default:
				bad(i, "unknown message event %q (known: %s, kwaishop_item_*; or a prefix ending in *)", name, strings.Join(knownMessageEvents, ", "))
			}
		case FamilyAuthorization:
			switch {
			case name == "*":
				f.authzAll = true
			case slices.Contains(knownAuthorizationEvents, name):
				f.authz = append(f.authz, name)
			default:
				bad(i, "unknown authorization event %q (known: %s, *)", name, strings.Join(knownAuthorizationEvents, ", "))
			}
		case FamilyWebhook:
			if t != TypeEndpointDisabled && name != "*" {
				bad(i, "unknown webhook event %q (known: endpoint_disabled)", name)
				continue
			}
			f.webhookEvents = true
		default:
			bad(i, "unknown event family %q: want message, authorization or webhook", family)
		}
	}
	return f, vs
}

// knownMessagePrefix: p starts a known event name, or an item event.
func knownMessagePrefix(p string) bool {
	if strings.HasPrefix(itemEventPrefix, p) || strings.HasPrefix(p, itemEventPrefix) {
		return true
	}
	for _, e := range knownMessageEvents {
		if strings.HasPrefix(e, p) {
			return true
		}
	}
	return false
}

// CheckOpenIDs checks the shop filter.
func CheckOpenIDs(ids []string) []Violation {
	var vs []Violation
	if len(ids) > MaxOpenIDs {
		return []Violation{{Field: "open_ids", Description: fmt.Sprintf("at most %d shops", MaxOpenIDs)}}
	}
	seen := map[string]bool{}
	for i, id := range ids {
		switch {
		case !openIDRe.MatchString(id):
			vs = append(vs, Violation{Field: fmt.Sprintf("open_ids[%d]", i), Description: "must match [A-Za-z0-9_-]{1,64}"})
		case seen[id]:
			vs = append(vs, Violation{Field: fmt.Sprintf("open_ids[%d]", i), Description: "repeated"})
		}
		seen[id] = true
	}
	return vs
}

func (f typeFilter) wantsMessages() bool {
	return f.allMessages || len(f.messageExact) > 0 || len(f.messagePrefix) > 0
}

func (f typeFilter) wantsAuthorization() bool { return f.authzAll || len(f.authz) > 0 }

// match reports whether an event of type t is wanted.
func (f typeFilter) match(t string) bool {
	family, name, _ := strings.Cut(t, ".")
	switch family {
	case FamilyMessage:
		if f.allMessages || slices.Contains(f.messageExact, name) {
			return true
		}
		for _, p := range f.messagePrefix {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
	case FamilyAuthorization:
		return f.authzAll || slices.Contains(f.authz, name)
	case FamilyWebhook:
		return f.webhookEvents && t == TypeEndpointDisabled
	}
	return false
}

// Subjects in JetStream. The message log's subjects are
// kwaishop.msg.<open_id>.<event>.<event id> (internal/message/msglog); the
// token manager publishes lifecycle events on kwaishop.authz.events.<open_id>.
const (
	msgPrefix       = msglog.MessagePrefix
	authzPrefix     = "kwaishop.authz.events."
	systemPrefix    = "kwaishop.webhook.events."
	redeliverPrefix = "kwaishop.webhook.redeliver."
	deadPrefix      = "kwaishop.webhook.dead."
)

// messageFilters are the message-log subjects an endpoint's consumer reads
// (nil: it wants no messages). Prefixes and too many combinations read
// every event of the shops; match decides in code.
func messageFilters(f typeFilter, openIDs []string) []string {
	if !f.wantsMessages() {
		return nil
	}
	var events []string // none: every event
	if !f.allMessages && len(f.messagePrefix) == 0 && msglog.CheckFilters(openIDs, f.messageExact) == nil {
		events = f.messageExact
	}
	return msglog.FilterSubjects("", openIDs, events)
}

// eventFilters are the events-stream subjects an endpoint's other consumer
// reads: its authorization events, endpoint announcements, and the copies
// requeued or replayed for it.
func eventFilters(id string, f typeFilter, openIDs []string) []string {
	out := []string{redeliverPrefix + id + ".>"}
	if f.wantsAuthorization() {
		if len(openIDs) == 0 {
			out = append(out, authzPrefix+">")
		} else {
			for _, o := range openIDs {
				out = append(out, authzPrefix+o)
			}
		}
	}
	if f.webhookEvents {
		out = append(out, systemPrefix+"*")
	}
	return out
}
