package gcp

import (
	"context"
	"io"
	"net/http"
)

// fetchClient is c.hc with every request bound to ctx, the fetch's
// context. golang.org/x/oauth2 drops the context it is given on some
// paths (the jwt-bearer grant of a service-account key posts with
// http.Client.PostForm, under context.Background), so without this its
// request would outlive the fetch (its deadline, or Close) by up to the
// client's timeout, and the credential gate would not see the fetch's
// recorder. A request without a cancellable context runs under ctx
// itself; one with its own is also cancelled when ctx ends.
func (c *creds) fetchClient(ctx context.Context) *http.Client {
	hc := *c.hc
	hc.Transport = &fetchTransport{base: c.hc.Transport, ctx: ctx}
	return &hc
}

type fetchTransport struct {
	base http.RoundTripper
	ctx  context.Context
}

func (t *fetchTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Context().Done() == nil {
		return t.base.RoundTrip(req.WithContext(t.ctx))
	}
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(t.ctx, cancel)
	release := func() { stop(); cancel() }
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releaseBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

type releaseBody struct {
	io.ReadCloser
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
