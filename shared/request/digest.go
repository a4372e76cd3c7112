package request

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Digest identifies a request by its content, however its JSON was
// formatted: the hex SHA-256 of the parsed request written back as JSON.
// sign stores it with the signed DTE, and enqueue compares it to refuse at
// once a different request for a folio already signed.
func Digest(req *Request) (string, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("digest request: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
