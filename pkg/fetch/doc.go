// Package fetch downloads package archives: many at once over one
// keep-alive HTTP client, with bounded, context-aware retries (exponential
// backoff on 5xx, 429, dropped connections and transfers that stall for
// Options.StallTimeout), resumption with a Range request (If-Range guarded)
// after a transfer cut short, and verification of size and sha256 (else
// md5) before the file appears at its destination.
//
//	c := fetch.New(fetch.Options{Progress: func(p fetch.Progress) { ... }})
//	err := c.Download(ctx, fetch.Request{URL: rec.URL, Dest: path, Size: rec.Size, SHA256: rec.SHA256})
//	err = c.DownloadAll(ctx, reqs) // concurrently, Options.Concurrency at a time
//
// A download is written to a temporary file beside Dest and renamed into
// place only once verified, so Dest is either absent or complete and
// correct. Errors name the URL with its secrets removed (pkg/redact).
// file:// URLs are read from the file system through the same path.
package fetch
