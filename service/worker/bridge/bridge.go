//go:build js && wasm

// Package bridge serves an http.Handler to the team service's Worker glue
// (service/worker/worker.mjs) for as long as the Go instance lives: one
// instance answers many requests, concurrently, where syumai/workers'
// Serve answers one and exits.
//
// The glue passes its per-isolate runtime context as globalThis.context
// (syumai/workers' wasm_exec.js; its cloudflare/d1 driver reads the
// environment from there). Serve puts handleRequest(request) on
// context.binding and signals readiness through the "workers" "ready"
// import; each call turns a JavaScript Request into an *http.Request, runs
// the handler in a goroutine of its own and resolves to a Response.
//
// A panic in the handler is not recovered: it ends the Go program, the glue
// answers the requests it had in flight with 500 and starts a new instance
// for the next one.
package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"syscall/js"
)

// MaxBody bounds a request body the handler may read, whatever it asks
// for (the service's own limits are lower; http.MaxBytesReader holds them).
const MaxBody = 16 << 20

//go:wasmimport workers ready
func ready()

// Serve answers the glue's requests with h and never returns.
func Serve(h http.Handler) {
	binding := js.Global().Get("context").Get("binding")
	binding.Set("handleRequest", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 1 {
			return promise(func() (js.Value, error) {
				return js.Value{}, fmt.Errorf("handleRequest takes one Request, got %d arguments", len(args))
			})
		}
		req := args[0]
		return promise(func() (js.Value, error) { return serve(h, req) })
	}))
	ready()
	select {}
}

// promise returns a JavaScript Promise settled by f, run in a goroutine
// (f may wait for other promises).
func promise(f func() (js.Value, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, args []js.Value) any {
		executor.Release()
		resolve, reject := args[0], args[1]
		go func() {
			v, err := f()
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(executor)
}

// await waits for a JavaScript promise.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		ch <- result{v: args[0]}
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		ch <- result{err: errors.New(js.Global().Get("String").Invoke(args[0]).String())}
		return nil
	})
	p.Call("then", then, catch)
	r := <-ch
	return r.v, r.err
}

// serve runs one request through h.
func serve(h http.Handler, jsReq js.Value) (js.Value, error) {
	r, body, err := toRequest(jsReq)
	if err != nil {
		return js.Value{}, err
	}
	defer body.cancel()
	w := &responseWriter{header: http.Header{}}
	h.ServeHTTP(w, r)
	return w.toResponse(r.Method), nil
}

// toRequest converts a JavaScript Request. Its body is read as the
// handler reads it, at most MaxBody bytes.
func toRequest(jsReq js.Value) (*http.Request, *bodyReader, error) {
	u, err := url.Parse(jsReq.Get("url").String())
	if err != nil {
		return nil, nil, fmt.Errorf("the request's URL: %w", err)
	}
	header := http.Header{}
	entries := js.Global().Get("Array").Call("from", jsReq.Get("headers"))
	for i, n := 0, entries.Length(); i < n; i++ {
		kv := entries.Index(i)
		header.Add(kv.Index(0).String(), kv.Index(1).String())
	}
	r := &http.Request{
		Method:     jsReq.Get("method").String(),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header,
		Host:       header.Get("Host"),
		RemoteAddr: header.Get("Cf-Connecting-Ip"),
		RequestURI: u.RequestURI(),
		Body:       http.NoBody,
	}
	if r.Host == "" {
		r.Host = u.Host
	}
	header.Del("Host")
	body := &bodyReader{}
	if stream := jsReq.Get("body"); !stream.IsNull() && !stream.IsUndefined() {
		body.reader = stream.Call("getReader")
		r.Body = body
		r.ContentLength = -1
		if n, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
			r.ContentLength = n
		}
	}
	return r.WithContext(context.Background()), body, nil
}

// bodyReader reads a request body from its ReadableStream's reader.
type bodyReader struct {
	reader js.Value // undefined: no body
	chunk  []byte   // read from the stream, not yet from Read
	n      int64    // bytes returned so far
	done   bool
}

// errBodyTooLarge is a read past MaxBody.
var errBodyTooLarge = fmt.Errorf("request body over %d bytes", MaxBody)

func (b *bodyReader) Read(p []byte) (int, error) {
	for len(b.chunk) == 0 {
		if b.done || b.reader.IsUndefined() {
			return 0, io.EOF
		}
		if b.n >= MaxBody {
			return 0, errBodyTooLarge
		}
		res, err := await(b.reader.Call("read"))
		if err != nil {
			b.done = true
			return 0, fmt.Errorf("reading the request body: %w", err)
		}
		if res.Get("done").Bool() {
			b.done = true
			return 0, io.EOF
		}
		v := res.Get("value")
		b.chunk = make([]byte, v.Length())
		js.CopyBytesToGo(b.chunk, v)
	}
	if rest := MaxBody - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n := copy(p, b.chunk)
	b.chunk = b.chunk[n:]
	b.n += int64(n)
	return n, nil
}

// Close is a no-op: serve cancels the stream when the handler returns.
func (b *bodyReader) Close() error { return nil }

// cancel releases the stream when the handler left some of it unread.
func (b *bodyReader) cancel() {
	if !b.reader.IsUndefined() && !b.done {
		b.reader.Call("cancel")
	}
}

// responseWriter collects a response (the service's are small).
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
		if w.header.Get("Content-Type") == "" && w.header.Get("Content-Encoding") == "" {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
	}
	return w.body.Write(p)
}

// toResponse makes the JavaScript Response; as net/http, no body for HEAD
// and for statuses that have none.
func (w *responseWriter) toResponse(method string) js.Value {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	headers := js.Global().Get("Headers").New()
	for k, vs := range w.header {
		for _, v := range vs {
			headers.Call("append", k, v)
		}
	}
	init := js.Global().Get("Object").New()
	init.Set("status", w.status)
	init.Set("headers", headers)
	body := js.Null()
	if method != http.MethodHead && w.status >= 200 && w.status != http.StatusNoContent && w.status != http.StatusResetContent && w.status != http.StatusNotModified {
		a := js.Global().Get("Uint8Array").New(w.body.Len())
		js.CopyBytesToJS(a, w.body.Bytes())
		body = a
	}
	return js.Global().Get("Response").New(body, init)
}
