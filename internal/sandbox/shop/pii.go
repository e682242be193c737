package shop

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

var (
	givenNames = []string{"伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "杰", "婷", "涛"}
	streets    = []string{"建设路", "人民路", "中山路", "解放路", "和平街", "新华路", "文化路", "长江路"}
)

// DecryptPII is the plaintext behind the order's encrypted consignee,
// mobile or address, derived from the ciphertext and consistent with the
// desensitised fields (surname, mobile prefix and tail, region); false for a
// ciphertext that is not one of the order's.
func (o *Order) DecryptPII(enc string) (string, bool) {
	a := &o.Address
	if enc == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(enc))
	h := binary.BigEndian.Uint64(sum[:8])
	switch enc {
	case a.EncryptedConsignee:
		surname, _ := utf8.DecodeRuneInString(a.DesensitiseConsignee)
		return string(surname) + givenNames[h%uint64(len(givenNames))], true
	case a.EncryptedMobile:
		return strings.Replace(a.DesensitiseMobile, "****", fmt.Sprintf("%04d", h%10000), 1), true
	case a.EncryptedAddress:
		return fmt.Sprintf("%s%s%s%s%s%d号", a.Province, a.City, a.District, a.Town, streets[h%uint64(len(streets))], h%300+1), true
	}
	return "", false
}
