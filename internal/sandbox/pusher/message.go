package pusher

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
)

// Settings are the pusher's switches (GET/POST /sandbox/v1/pusher).
type Settings struct {
	// URL receives the messages; empty = no push URL, no messages are
	// produced (as on the platform without a message channel).
	URL string `json:"url"`
	// Enabled pauses (false) or resumes delivery; paused messages wait as
	// "pending" and go out when delivery resumes.
	Enabled bool `json:"enabled"`
	// DuplicateRate is the fraction of messages pushed twice (the same
	// eventId again right after the first successful delivery).
	DuplicateRate float64 `json:"duplicateRate"`
	// DropRate is the fraction of messages never pushed (recorded as
	// "dropped").
	DropRate float64 `json:"dropRate"`
	// HeartbeatSeconds is the real-time heartbeat period; 0 = none.
	HeartbeatSeconds float64 `json:"heartbeatSeconds"`
}

// Update changes some settings; nil fields keep their value.
type Update struct {
	URL              *string  `json:"url"`
	Enabled          *bool    `json:"enabled"`
	DuplicateRate    *float64 `json:"duplicateRate"`
	DropRate         *float64 `json:"dropRate"`
	HeartbeatSeconds *float64 `json:"heartbeatSeconds"`
}

// Status is the settings plus what the pusher has done.
type Status struct {
	Settings
	Heartbeats         int    `json:"heartbeats"`   // heartbeats sent
	HeartbeatsOK       int    `json:"heartbeatsOk"` // acknowledged with {"result":1}
	LastHeartbeat      string `json:"lastHeartbeat,omitempty"`
	Pending            int    `json:"pending"`
	Delivered          int    `json:"delivered"`
	Failed             int    `json:"failed"`
	Dropped            int    `json:"dropped"`
	DuplicatesSelected int    `json:"duplicatesSelected"`
}

// Push is one message and its delivery record.
type Push struct {
	EventID    string `json:"eventId"`
	Event      string `json:"event"`
	OpenID     string `json:"openId"`
	BizID      int64  `json:"bizId"`
	CreateTime int64  `json:"createTime"` // sandbox clock, ms
	// Status is pending, delivered, failed (after the last retry) or dropped.
	Status string `json:"status"`
	// Duplicate: the pusher was told to push this message twice.
	Duplicate bool `json:"duplicate,omitempty"`
	// NextAttempt is when a pending message is due (sandbox clock, ms).
	NextAttempt int64     `json:"nextAttempt,omitempty"`
	Attempts    []Attempt `json:"attempts"`
}

// Attempt is one POST of a message.
type Attempt struct {
	Time      int64  `json:"time"`    // sandbox clock, ms
	Outcome   string `json:"outcome"` // "delivered" or why it failed
	OK        bool   `json:"ok"`
	Duplicate bool   `json:"duplicate,omitempty"` // the deliberate second copy
}

// pushMessage is the plaintext of a message [MSG], in the field order
// of the platform's sample (info is a JSON string).
type pushMessage struct {
	EventID    string `json:"eventId"`
	BizID      int64  `json:"bizId"`
	UserID     int64  `json:"userId"`
	OpenID     string `json:"openId"`
	AppKey     string `json:"appKey"`
	Event      string `json:"event"`
	Info       string `json:"info"`
	CreateTime int64  `json:"createTime"`
	Test       bool   `json:"test"`
}

var heartbeatPlaintext = []byte(`{"test":true}`)

// encryptMessage is the platform's message encryption [MSG]:
// AES-CBC, IV = 16 zero bytes, PKCS#7 padding, standard base64.
func encryptMessage(block cipher.Block, plain []byte) string {
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}
