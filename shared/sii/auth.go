package sii

import (
	"context"
	"time"
)

// Token returns a token for cred: the cached one while it is younger than
// the token TTL, else a new one from getSeed → signed seed → getToken. When
// many goroutines need a new token at once, one of them fetches it and the
// others wait for it (single flight per environment and certificate); the
// cache is checked again inside the flight so that a token another instance
// just put in a shared cache is used.
func (c *Client) Token(ctx context.Context, cred Credential) (string, error) {
	key := c.cacheKey(cred)
	if t, ok := c.cached(ctx, key); ok {
		return t.Value, nil
	}
	ch := c.flight.DoChan(key, func() (any, error) {
		// The flight outlives the caller that started it: the others wait
		// on it, so it must not die with that caller's context.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*c.timeout+10*time.Second)
		defer cancel()
		if t, ok := c.cached(fctx, key); ok {
			return t.Value, nil
		}
		tok, err := c.authenticate(fctx, cred)
		if err != nil {
			return "", err
		}
		if err := c.cache.Put(fctx, key, Token{Value: tok, Issued: c.now()}); err != nil {
			c.log.WarnContext(fctx, "sii token cache put failed; the token is used uncached", "err", err)
		}
		return tok, nil
	})
	select {
	case <-ctx.Done():
		return "", (&Error{Op: OpGetToken, Subject: cred.RUT().String(), Code: CodeTimeout, Message: "gave up waiting for a token", Transient: true, Err: ctx.Err()}).wrap()
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

func (c *Client) cacheKey(cred Credential) string { return string(c.env) + "|" + cred.ID() }

// cached returns a cached token that is still young enough. A failing
// cache is a miss: a shared cache's outage must not stop authentication.
func (c *Client) cached(ctx context.Context, key string) (Token, bool) {
	t, ok, err := c.cache.Get(ctx, key)
	if err != nil {
		c.log.WarnContext(ctx, "sii token cache get failed", "err", err)
		return Token{}, false
	}
	if !ok || t.Value == "" {
		return Token{}, false
	}
	age := c.now().Sub(t.Issued)
	if age < -time.Minute || age >= c.tokenTTL { // far future: a clock problem; renew
		return Token{}, false
	}
	return t, true
}

// invalidate drops tok from the cache, unless another caller already
// replaced it.
func (c *Client) invalidate(ctx context.Context, cred Credential, tok string) {
	if err := c.cache.Delete(ctx, c.cacheKey(cred), tok); err != nil {
		c.log.WarnContext(ctx, "sii token cache delete failed", "err", err)
	}
}

// authenticate runs getSeed → sign → getToken.
func (c *Client) authenticate(ctx context.Context, cred Credential) (string, error) {
	subject := cred.RUT().String()
	seed, err := c.GetSeed(ctx)
	if err != nil {
		return "", err
	}
	signed, serr := cred.SignSeed(ctx, seedDocument(seed))
	if serr != nil {
		return "", (&Error{Op: OpGetToken, Subject: subject, Code: CodeSigning, Message: "cannot sign the seed", Err: serr}).wrap()
	}
	ret, e := c.soapCall(ctx, OpGetToken, PathToken, []param{{"pszXml", string(signed)}})
	var tok string
	if e == nil {
		tok, e = parseToken(ret)
	}
	if e != nil {
		e.Subject = subject
		return "", e.wrap()
	}
	c.log.InfoContext(ctx, "sii token issued", "env", string(c.env), "rut_envia", subject)
	return tok, nil
}

// GetSeed asks for a seed (CrSeed.getSeed): a 12-digit number, valid for
// two minutes and one use. Token does this itself; it is exported for tools.
func (c *Client) GetSeed(ctx context.Context) (string, error) {
	ret, e := c.soapCall(ctx, OpGetSeed, PathSeed, nil)
	var seed string
	if e == nil {
		seed, e = parseSeed(ret)
	}
	if e != nil {
		return "", e.wrap()
	}
	return seed, nil
}

// withToken runs call with a token for cred; if the SII refuses the token,
// it drops it, gets a new one (single flight) and runs call once more.
func (c *Client) withToken(ctx context.Context, cred Credential, call func(tok string) *Error) error {
	tok, err := c.Token(ctx, cred)
	if err != nil {
		return err
	}
	e := call(tok)
	if e == nil || !e.TokenRejected {
		return wrapNil(e)
	}
	c.log.InfoContext(ctx, "sii refused the token; authenticating again", "op", e.Op, "sii_estado", e.Code)
	c.invalidate(ctx, cred, tok)
	if tok, err = c.Token(ctx, cred); err != nil {
		return err
	}
	e = call(tok)
	if e != nil && e.TokenRejected {
		// A fresh token refused too: drop it so the next attempt starts clean.
		c.invalidate(ctx, cred, tok)
	}
	return wrapNil(e)
}

func wrapNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e.wrap()
}
