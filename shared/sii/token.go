package sii

import (
	"context"
	"sync"
	"time"
)

// Token is an SII session token and when it was issued.
type Token struct {
	Value  string    `json:"value"`
	Issued time.Time `json:"issued"`
}

// TokenCache keeps one token per key (environment and certificate). An
// implementation shared between instances (an object store, a database)
// lets scaled-out functions use one token; MemoryTokenCache serves one
// process. Implementations must be safe for concurrent use.
type TokenCache interface {
	// Get returns the cached token; ok is false when there is none.
	Get(ctx context.Context, key string) (tok Token, ok bool, err error)
	// Put stores tok under key, replacing what was there.
	Put(ctx context.Context, key string, tok Token) error
	// Delete removes the token under key only if it still is value: a
	// caller that saw value refused must not delete the fresh token another
	// caller already put.
	Delete(ctx context.Context, key, value string) error
}

// MemoryTokenCache is a TokenCache in this process's memory.
type MemoryTokenCache struct {
	mu sync.Mutex
	m  map[string]Token
}

// NewMemoryTokenCache returns an empty in-memory cache.
func NewMemoryTokenCache() *MemoryTokenCache {
	return &MemoryTokenCache{m: map[string]Token{}}
}

// Get implements TokenCache.
func (c *MemoryTokenCache) Get(_ context.Context, key string) (Token, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[key]
	return t, ok, nil
}

// Put implements TokenCache.
func (c *MemoryTokenCache) Put(_ context.Context, key string, tok Token) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = tok
	return nil
}

// Delete implements TokenCache.
func (c *MemoryTokenCache) Delete(_ context.Context, key, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.m[key]; ok && t.Value == value {
		delete(c.m, key)
	}
	return nil
}
