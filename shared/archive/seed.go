package archive

import (
	"encoding/json"

	"github.com/dtecl/pipeline/shared/dtekey"
	"github.com/dtecl/pipeline/shared/events"
)

// Seed is the version as an event carries it to the next stage (nil for a
// version with no ETag: nothing is known to be stored).
func (v Version) Seed() *events.StateSeed {
	if v.ETag == "" {
		return nil
	}
	body, err := json.Marshal(v.State)
	if err != nil {
		return nil
	}
	return &events.StateSeed{ETag: v.ETag, State: body}
}

// VersionOf reads the seed an event carries back into a version to start
// an update from (UpdateStateFrom); nil when there is none, it cannot be
// read, or it is another document's. Only a hint: the update's first write
// is conditional on its ETag.
func VersionOf(k dtekey.Key, s *events.StateSeed) *Version {
	if s == nil || s.ETag == "" || len(s.State) == 0 {
		return nil
	}
	var st State
	if err := json.Unmarshal(s.State, &st); err != nil || st.DTEKey != k.String() || !ValidStatus(st.Status) {
		return nil
	}
	if st.History == nil {
		st.History = []Entry{}
	}
	return &Version{State: st, ETag: s.ETag}
}
