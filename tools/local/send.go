package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dtecl/pipeline/shared/webhook"
)

// Accepted is enqueue's 202 answer.
type Accepted struct {
	DTEKey  string `json:"dtekey"`
	EventID string `json:"event_id"`
	Status  string `json:"status"`
}

// Send registers the request's invoice in the fake Odoo (as posting it in
// Odoo would; not with a real Odoo) and hands the request to enqueue, signed
// like the addon signs.
func (s *Stack) Send(ctx context.Context, body []byte) (Accepted, error) {
	var req struct {
		Document struct {
			Type  int   `json:"type"`
			Folio int64 `json:"folio"`
		} `json:"document"`
		Issuer struct {
			RUT string `json:"rut"`
		} `json:"issuer"`
		Odoo struct {
			MoveID int64 `json:"move_id"`
		} `json:"odoo"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return Accepted{}, fmt.Errorf("read request: %w", err)
	}
	if s.Odoo != nil {
		s.Odoo.AddMove(req.Odoo.MoveID, fmt.Sprintf("%s-%d-%d", req.Issuer.RUT, req.Document.Type, req.Document.Folio))
	}
	return post(ctx, s.EnqueueURL, []byte(s.cfg.EnqueueSecret), body)
}

func post(ctx context.Context, url string, secret, body []byte) (Accepted, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Accepted{}, err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(webhook.Header, webhook.Sign(secret, time.Now(), body))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return Accepted{}, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusAccepted {
		return Accepted{}, fmt.Errorf("enqueue answered %d: %s", resp.StatusCode, answer)
	}
	var a Accepted
	if err := json.Unmarshal(answer, &a); err != nil {
		return Accepted{}, fmt.Errorf("enqueue's answer: %w", err)
	}
	return a, nil
}
