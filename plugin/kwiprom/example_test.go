package kwiprom_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/streamidentity/kafka-workload-identity/oauthbearer"
	"github.com/streamidentity/kafka-workload-identity/plugin/kwiprom"
)

// Set the metrics as the cache's observer and serve them.
func ExampleNewMetrics() {
	m := kwiprom.NewMetrics("kwi")
	src := oauthbearer.TokenSourceFunc(func(context.Context) (oauthbearer.Token, error) {
		return oauthbearer.Token{Value: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", Expiry: time.Now().Add(time.Hour)}, nil
	})
	c, err := oauthbearer.NewCache(src, &oauthbearer.CacheOptions{Name: "orders", Observer: m})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if _, err := c.Token(context.Background()); err != nil {
		panic(err)
	}
	// In a program: http.Handle("/metrics", m.Handler())
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "kwi_token_fetches_total") || strings.HasPrefix(line, "kwi_token_consecutive_failures") {
			fmt.Println(line)
		}
	}
	// Output:
	// kwi_token_consecutive_failures{kind="custom",source="orders"} 0
	// kwi_token_fetches_total{error_type="",kind="custom",mode="wait",outcome="success",source="orders"} 1
}
