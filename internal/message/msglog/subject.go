package msglog

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
)

// Subjects and names in JetStream.
const (
	// StreamName is the message log.
	StreamName = "KWAISHOP_MESSAGES"
	// MessagePrefix + <open_id>.<event>.<event id> holds every stored
	// message.
	MessagePrefix = "kwaishop.msg."
	// ReplayPrefix + <group>.<open_id>.<event>.<event id> holds copies
	// delivered again to one group (replay, requeued dead letters).
	ReplayPrefix = "kwaishop.replay."
)

// Message headers (besides Nats-Msg-Id and the W3C trace context).
const (
	// HeaderEventID is the platform's event id of a stored message.
	HeaderEventID = "Kw-Event-Id"
	// HeaderReconciled marks a stored message the reconciler found ("1"),
	// not a push.
	HeaderReconciled = "Kw-Reconciled"
)

// maxFilterCombos bounds the subjects one filter expands to.
const maxFilterCombos = 256

var plainToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidName reports whether s is a plain name ([A-Za-z0-9_-]{1,64}): a
// subject token as it is (consumer group names must be).
func ValidName(s string) bool { return plainToken.MatchString(s) }

// token makes s a NATS subject token: itself when it is a plain name, "_"
// when empty, else "~" + a hash (the message itself keeps the real value).
func token(s string) string {
	switch {
	case s == "":
		return "_"
	case plainToken.MatchString(s):
		return s
	}
	h := sha256.Sum256([]byte(s))
	return "~" + hex.EncodeToString(h[:12])
}

func msgSubject(openID, event, eventID string) string {
	return MessagePrefix + token(openID) + "." + token(event) + "." + token(eventID)
}

// CheckFilters refuses filters of more (open_id, event) combinations than a
// consumer or a listing may have.
func CheckFilters(openIDs, events []string) error {
	if max(len(openIDs), 1)*max(len(events), 1) > maxFilterCombos {
		return message.Invalid("open_ids", "open_ids x event_types must be at most %d combinations", maxFilterCombos)
	}
	return nil
}

// FilterSubjects are the subjects of the messages of the given shops and
// events (none: all), and, for a group, of the copies replayed to that
// group: one of each for every (open_id, event) pair.
func FilterSubjects(group string, openIDs, events []string) []string {
	if len(openIDs) == 0 {
		openIDs = []string{""}
	}
	if len(events) == 0 {
		events = []string{""}
	}
	tok := func(s string) string {
		if s == "" {
			return "*"
		}
		return token(s)
	}
	var out []string
	for _, o := range openIDs {
		for _, e := range events {
			out = append(out, MessagePrefix+tok(o)+"."+tok(e)+".*")
			if group != "" {
				out = append(out, ReplayPrefix+group+"."+tok(o)+"."+tok(e)+".*")
			}
		}
	}
	return out
}

// ReplaySubject is the subject of group's copy of the message stored on
// subject (a message subject, or another group's replay subject).
func ReplaySubject(group, subject string) string {
	// subject is kwaishop.msg.<o>.<e>.<id> or kwaishop.replay.<g>.<o>.<e>.<id>;
	// keep its last three tokens.
	toks := strings.Split(subject, ".")
	return ReplayPrefix + group + "." + strings.Join(toks[max(len(toks)-3, 0):], ".")
}

// EventToken is the event token of a message subject
// (kwaishop.msg.<o>.<e>.<id>).
func EventToken(subject string) string {
	toks := strings.Split(subject, ".")
	if len(toks) < 3 {
		return ""
	}
	return toks[len(toks)-2]
}
