//go:build goexperiment.boringcrypto

package signerbench

import "crypto/boring"

// boringEnabled reports whether this build's crypto runs on BoringCrypto
// (GOEXPERIMENT=boringcrypto).
func boringEnabled() bool { return boring.Enabled() }

func cryptoName() string {
	if boring.Enabled() {
		return "boringcrypto"
	}
	return "boringcrypto (not enabled)"
}
