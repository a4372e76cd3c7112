package sii

import "strings"

// Environment is the base URL of an SII host: Maullin (certification),
// Palena (production) or any other server speaking the same protocol, such
// as the project's simulator ("http://127.0.0.1:8089").
type Environment string

// The SII's hosts (docs/sii-protocol.md §0).
const (
	Maullin Environment = "https://maullin.sii.cl" // certification
	Palena  Environment = "https://palena.sii.cl"  // production
)

// Paths of the services, the same on every host.
const (
	PathSeed      = "/DTEWS/CrSeed.jws"
	PathToken     = "/DTEWS/GetTokenFromSeed.jws"
	PathUpload    = "/cgi_dte/UPL/DTEUpload"
	PathUploadEst = "/DTEWS/QueryEstUp.jws"
	PathDocEst    = "/DTEWS/QueryEstDte.jws"
)

// URL is the address of the service at path on this host.
func (e Environment) URL(path string) string {
	return strings.TrimRight(string(e), "/") + path
}
