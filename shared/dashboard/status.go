package dashboard

import "github.com/dtecl/pipeline/shared/archive"

// StatusRetrying is a document whose stage failed transiently and waits
// for its next automatic attempt (cl.dte.retrying; Odoo shows the same).
// The archive's state does not record it: it is the events' news.
const StatusRetrying = "retrying"

// Statuses in the order the page shows them.
var Statuses = []string{
	archive.StatusQueued, archive.StatusSigned, archive.StatusSent, StatusRetrying,
	archive.StatusAccepted, archive.StatusObjected, archive.StatusRejected, archive.StatusError,
}

var rank = map[string]int{
	archive.StatusQueued: 1, archive.StatusSigned: 2, archive.StatusSent: 3,
	archive.StatusAccepted: 4, archive.StatusObjected: 4, archive.StatusRejected: 4,
}

// decide is the status machine Odoo follows (docs/design.md, "Odoo
// callback"; the addon's dtelib/transitions.py), so that the dashboard and
// Odoo agree whatever order the events arrive in: a final status never
// changes; error applies to anything not final (over an earlier error only
// when newer); after an error a newer event of any other status moves the
// document on (a replayed dead letter); retrying applies when it is not
// older than the current status, and after it a newer status (or a final
// one) moves the document on; otherwise only forward. Times are Unix
// milliseconds; cur is "" for a document not seen yet.
func decide(cur string, curAt int64, in string, inAt int64) (string, bool) {
	switch {
	case archive.FinalStatus(cur):
		return cur, false
	case in == archive.StatusError:
		if cur == archive.StatusError && inAt <= curAt {
			return cur, false
		}
		return in, true
	case cur == archive.StatusError:
		if inAt > curAt {
			return in, true
		}
		return cur, false
	case in == StatusRetrying:
		if cur == "" || inAt >= curAt {
			return in, true
		}
		return cur, false
	case cur == StatusRetrying:
		if archive.FinalStatus(in) || inAt >= curAt {
			return in, true
		}
		return cur, false
	case rank[in] > rank[cur]:
		return in, true
	}
	return cur, false
}
