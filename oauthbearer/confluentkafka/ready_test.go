//go:build cgo

package confluentkafka_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/oauthbearer/confluentkafka"
)

// metadataClient is a fakeClient whose metadata request fails as it does
// when every authentication fails.
type metadataClient struct {
	*fakeClient
	err error
}

func (c metadataClient) GetMetadata(*string, bool, int) (*kafka.Metadata, error) {
	if c.err != nil {
		return nil, c.err
	}
	return &kafka.Metadata{}, nil
}

// Ready reports success only after a broker round trip: a token that is
// set but refused is an error, with the broker's rejection when librdkafka's
// log reported it.
//
// Fails before Ready made the round trip: it returned nil as soon as a
// token was set.
func TestRefresherReadyNeedsABrokerRoundTrip(t *testing.T) {
	t.Parallel()
	tok := oauthbearer.Token{Value: "h.p.s", Expiry: time.Now().Add(time.Hour)}
	timedOut := kafka.NewError(kafka.ErrTimedOut, "Local: Timed out", false)

	ok := metadataClient{fakeClient: newFakeClient()}
	r, err := confluentkafka.NewRefresher(ok, oauthbearer.StaticTokenSource(tok), nil)
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, r.Ready(context.Background()))

	refused := metadataClient{fakeClient: newFakeClient(), err: timedOut}
	logs := make(chan kafka.LogEvent, 1)
	r2, err := confluentkafka.NewRefresher(refused, oauthbearer.StaticTokenSource(tok), &confluentkafka.Options{Logs: logs})
	require.NoError(t, err)
	defer r2.Close()
	err = r2.Ready(context.Background())
	require.ErrorIs(t, err, timedOut, "a set token is not enough")
	assert.Contains(t, err.Error(), "broker round trip")

	logs <- kafka.LogEvent{Name: "rdkafka#producer-1", Tag: "FAIL", Level: 3,
		Message: `sasl_plaintext://127.0.0.1:9092/bootstrap: SASL authentication error: {"status":"invalid_token"} (after 1ms in state AUTH_REQ)`}
	var rej *oauthbearer.RejectedError
	require.Eventually(t, func() bool { return errors.As(r2.Err(), &rej) }, 10*time.Second, time.Millisecond)
	assert.Equal(t, "invalid_token", rej.Status)
	require.ErrorAs(t, r2.Ready(context.Background()), &rej)
	// A delivery report's timeout gets the cause.
	dr := kafka.NewError(kafka.ErrMsgTimedOut, "Local: Message timed out", false)
	explained := r2.Explain(dr)
	require.ErrorAs(t, explained, &rej)
	require.ErrorIs(t, explained, dr)
	other := kafka.NewError(kafka.ErrUnknownTopicOrPart, "unknown topic", false)
	assert.Equal(t, other, r2.Explain(other))
}

// Ready returns a permanent source failure at once instead of waiting for
// its context to end.
//
// Fails before: Ready waited for ctx and returned only then.
func TestRefresherReadyReturnsPermanentFailureAtOnce(t *testing.T) {
	t.Parallel()
	cause := errors.New("azure: managed identity: no managed identity reachable")
	src := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) { return oauthbearer.Token{}, cause })
	r, err := confluentkafka.NewRefresher(newFakeClient(), src, nil)
	require.NoError(t, err)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = r.Ready(ctx)
	require.ErrorIs(t, err, cause)
	assert.NoError(t, ctx.Err(), "answered before the context ended")
}

// slowMetadataClient answers a metadata request as librdkafka does when
// every authentication fails: after waiting out the request's timeout.
type slowMetadataClient struct{ *fakeClient }

func (c slowMetadataClient) GetMetadata(_ *string, _ bool, timeoutMs int) (*kafka.Metadata, error) {
	time.Sleep(time.Duration(timeoutMs) * time.Millisecond)
	return nil, kafka.NewError(kafka.ErrTimedOut, "Local: Timed out", false)
}

// Ready returns the broker's rejection as soon as librdkafka's log reports
// it, not when the round trip's timeout ends.
//
// Fails before: Ready waited out ReadyTimeout (bounded by ctx) in one
// metadata request, so ctx had ended when it returned.
func TestRefresherReadyReturnsRejectionAtOnce(t *testing.T) {
	t.Parallel()
	tok := oauthbearer.Token{Value: "h.p.s", Expiry: time.Now().Add(time.Hour)}
	logs := make(chan kafka.LogEvent, 1)
	r, err := confluentkafka.NewRefresher(slowMetadataClient{newFakeClient()}, oauthbearer.StaticTokenSource(tok),
		&confluentkafka.Options{Logs: logs, ReadyTimeout: time.Hour})
	require.NoError(t, err)
	defer r.Close()
	logs <- kafka.LogEvent{Name: "rdkafka#producer-1", Tag: "FAIL", Level: 3,
		Message: `sasl_ssl://b0:9092/bootstrap: SASL authentication error: {"status":"invalid_token"} (after 1ms in state AUTH_REQ)`}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var rej *oauthbearer.RejectedError
	require.ErrorAs(t, r.Ready(ctx), &rej)
	assert.Equal(t, "invalid_token", rej.Status)
	assert.NoError(t, ctx.Err(), "answered before the context ended")
}
