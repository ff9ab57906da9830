package fetchrec

import (
	"context"
	"fmt"
	"log/slog"
)

// Error returns err sealed ([Seal]) behind its message scrubbed
// ([Recorder.Scrub]) of what r recorded and of extra (the token the fetch
// presented or got), of anything token- or key-shaped and of control
// characters. errors.Is still matches what err matches; errors.As reaches
// only the module's own error types, as scrubbed copies; nothing else of
// err is reachable. nil stays nil; an error already scrubbed is scrubbed
// again with the new values.
func Error(err error, r *Recorder, extra ...string) error {
	return Seal(err, func(s string) string { return r.Scrub(s, extra...) })
}

// Handler wraps h so that every record's message and attribute values are
// scrubbed before h sees them: of what the recorder in the record's
// context recorded (log with the fetch's context: Logger.WarnContext), of
// anything token- or key-shaped, and of control characters. Errors among
// the values are logged as their scrubbed text. Wrapping a Handler again
// returns it as it is.
func Handler(h slog.Handler) slog.Handler {
	if _, ok := h.(*handler); ok {
		return h
	}
	return &handler{h: h}
}

// Logger returns l with its handler wrapped by [Handler]; nil stays nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return nil
	}
	if _, ok := l.Handler().(*handler); ok {
		return l
	}
	return slog.New(Handler(l.Handler()))
}

type handler struct{ h slog.Handler }

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	r := From(ctx)
	vals := r.Values()
	out := slog.NewRecord(rec.Time, rec.Level, r.Scrub(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubAttr(a, vals))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	s := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		s[i] = scrubAttr(a, nil)
	}
	return &handler{h: h.h.WithAttrs(s)}
}

func (h *handler) WithGroup(name string) slog.Handler { return &handler{h: h.h.WithGroup(name)} }

func scrubAttr(a slog.Attr, vals []string) slog.Attr {
	r := &Recorder{vals: vals}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, r.Scrub(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = scrubAttr(ga, vals)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, r.Scrub(x.Error()))
		case []byte:
			return slog.String(a.Key, r.Scrub(string(x)))
		case fmt.Stringer:
			return slog.String(a.Key, r.Scrub(x.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
