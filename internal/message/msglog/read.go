package msglog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kwaishop-gateway/kwaishop-gateway/internal/message"
	"github.com/kwaishop-gateway/kwaishop-gateway/internal/store"
)

// Decode turns a stored record of the stream into the API form: the
// message with its sequence, receive time (zero: unknown) and flags. A
// record that does not parse (it cannot come from the intake) keeps only
// its event id.
func Decode(subject string, data []byte, h nats.Header, seq uint64, stored time.Time) message.Message {
	var m message.Message
	if p, err := message.ParsePush(data); err == nil {
		m = p.Message()
	} else {
		m = message.Message{EventID: h.Get(HeaderEventID)}
	}
	m.Sequence = seq
	m.ReceiveTime = stored
	m.Reconciled = h.Get(HeaderReconciled) == "1"
	m.Replayed = strings.HasPrefix(subject, ReplayPrefix)
	return m
}

// Get returns the stored message with this platform event id.
func (l *Log) Get(ctx context.Context, eventID string) (message.Message, error) {
	raw, err := l.stream.GetLastMsgForSubject(ctx, MessagePrefix+"*.*."+token(eventID))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return message.Message{}, ErrNotFound
	}
	if err != nil {
		return message.Message{}, fmt.Errorf("message: get: %w", err)
	}
	m := Decode(raw.Subject, raw.Data, raw.Header, raw.Sequence, raw.Time)
	if m.EventID != eventID {
		return message.Message{}, ErrNotFound
	}
	return m, nil
}

// Query filters List.
type Query struct {
	EventTypes, OpenIDs []string
	Start, End          time.Time
	PageSize            int
	PageToken           string
}

// pageToken is the opaque position of a listing: the next sequence and a
// fingerprint of the filters it belongs to.
type pageToken struct {
	Seq    uint64 `json:"s"`
	Filter string `json:"f"`
}

// PageToken is the token of a listing that goes on at stream sequence seq
// with the filters whose fingerprint is filter.
func PageToken(seq uint64, filter string) string {
	b, _ := json.Marshal(pageToken{Seq: seq, Filter: filter})
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParsePageToken returns the sequence a PageToken holds ("" is 0, the
// start); a token that is not one, or one issued for other filters, is
// an invalid page_token.
func ParsePageToken(s, filter string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var t pageToken
	if err != nil || json.Unmarshal(b, &t) != nil || t.Seq == 0 {
		return 0, message.Invalid("page_token", "not a token returned by this list")
	}
	if t.Filter != filter {
		return 0, message.Invalid("page_token", "the filters changed since the token was issued")
	}
	return t.Seq, nil
}

func filterFingerprint(parts ...string) string {
	return strings.Join(parts, "|")
}

// List returns one page of stored messages (not replay copies), oldest first.
func (l *Log) List(ctx context.Context, q Query) ([]message.Message, string, error) {
	if err := CheckFilters(q.OpenIDs, q.EventTypes); err != nil {
		return nil, "", err
	}
	if q.PageSize <= 0 {
		q.PageSize = 50
	}
	fp := filterFingerprint(strings.Join(q.OpenIDs, ","), strings.Join(q.EventTypes, ","), fmtTime(q.Start), fmtTime(q.End))
	seq, err := ParsePageToken(q.PageToken, fp)
	if err != nil {
		return nil, "", err
	}
	var out []message.Message
	next := ""
	err = store.ScanStream(ctx, l.stream, FilterSubjects("", q.OpenIDs, q.EventTypes), seq, q.Start, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if !q.End.IsZero() && !meta.Timestamp.Before(q.End) {
			return false
		}
		if len(out) == q.PageSize {
			next = PageToken(meta.Sequence.Stream, fp)
			return false
		}
		out = append(out, Decode(m.Subject(), m.Data(), m.Headers(), meta.Sequence.Stream, meta.Timestamp))
		return true
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}
