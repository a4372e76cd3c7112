//go:build !goexperiment.boringcrypto

package signerbench

// boringEnabled reports whether this build's crypto runs on BoringCrypto
// (GOEXPERIMENT=boringcrypto): not in this build.
func boringEnabled() bool { return false }

func cryptoName() string { return "crypto/rsa" }
