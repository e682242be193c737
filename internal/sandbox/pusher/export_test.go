package pusher

// Internals the external tests check against the platform's vectors.
var (
	EncryptMessage     = encryptMessage
	HeartbeatPlaintext = heartbeatPlaintext
)

type PushMessage = pushMessage
