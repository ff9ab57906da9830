package faketb_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/streamidentity/kafka-workload-identity/idptest"
	"github.com/streamidentity/kafka-workload-identity/internal/faketb"
)

var (
	_ idptest.TB = (*faketb.Example)(nil)
	_ idptest.TB = (*faketb.Recorder)(nil)
)

func TestExample(t *testing.T) {
	var order []int
	e := &faketb.Example{}
	e.Helper()
	e.Cleanup(func() { order = append(order, 1) })
	e.Cleanup(func() { order = append(order, 2) })
	e.Close()
	e.Close() // once
	assert.Equal(t, []int{2, 1}, order, "last registered first, once")
	assert.PanicsWithValue(t, "bad option 7", func() { e.Fatalf("bad option %d", 7) })
}

func TestRecorder(t *testing.T) {
	r := &faketb.Recorder{}
	r.Helper()
	r.Fatalf("bad %s", "x")
	r.Cleanup(func() {})
	assert.Equal(t, "bad x", r.Fatal)
	assert.Len(t, r.Cleanups, 1)
}
