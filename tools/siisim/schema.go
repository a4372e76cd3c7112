package siisim

import (
	"path/filepath"

	"github.com/dtecl/pipeline/tools/xsd"
)

// maxSchemaErrors bounds the DETAIL of a STATUS 7 answer.
const maxSchemaErrors = 20

// Schemas compiles the SII's schemas for NewProjectInspector, in process
// (libxml2, as the SII's own validation): the set built into the program,
// or, when envioDTE is given (the path of an EnvioDTE_v10.xsd), the set in
// its folder. Compile once and share: validation is concurrent-safe.
func Schemas(envioDTE string) (*xsd.SII, error) {
	if envioDTE == "" {
		return xsd.NewSII()
	}
	return xsd.LoadSII(filepath.Dir(envioDTE))
}
