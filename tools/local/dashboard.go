package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
)

// DashboardName is the dashboard's binary and process name.
const DashboardName = "dashboard"

// startDashboard runs the operations dashboard on a fresh database (the
// local run clears the archive of its issuers too), fed by its queue.
func (s *Stack) startDashboard(ctx context.Context) error {
	bin, err := binPath(s.cfg.BinDir, DashboardName)
	if err != nil {
		return err
	}
	db := filepath.Join(s.cfg.WorkDir, "dashboard.db")
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	token := s.cfg.DashboardToken
	if token == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		token = hex.EncodeToString(b)
	}
	port := s.cfg.Ports.Dashboard
	if port == 0 {
		if port, err = freePort(); err != nil {
			return err
		}
		s.cfg.Ports.Dashboard = port
	}
	p := &process{
		name: DashboardName, bin: bin, url: "http://127.0.0.1:" + strconv.Itoa(port),
		log: filepath.Join(s.cfg.WorkDir, "logs", DashboardName+".log"),
		env: []string{
			"PORT=" + strconv.Itoa(port), "AMQP_URL=" + s.cfg.AMQPURL, "LOG_LEVEL=info", "SHUTDOWN_TIMEOUT=5s",
			"DASHBOARD_DB=" + db, "DASHBOARD_TOKEN=" + token,
			"S3_ENDPOINT=" + s.cfg.S3.Endpoint, "S3_BUCKET=" + s.cfg.S3.Bucket, "S3_REGION=" + s.cfg.S3.Region,
			"S3_ACCESS_KEY=" + s.cfg.S3.AccessKey, "S3_SECRET_KEY=" + s.cfg.S3.SecretKey,
		},
	}
	s.procs[DashboardName] = p
	if err := p.start(ctx); err != nil {
		return err
	}
	s.DashboardURL, s.DashboardToken = p.url+"/", token
	return nil
}
