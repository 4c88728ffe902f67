package httpretry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Network is how requests reach servers: conda's ssl_verify and
// proxy_servers (see config.Config).
type Network struct {
	// SSLVerify is "" to verify servers against the system's certificate
	// authorities (SSL_CERT_FILE and SSL_CERT_DIR count), "false" to verify
	// nothing, or a PEM file or folder of the authorities to trust instead.
	SSLVerify string
	// Proxies maps "scheme://host", "scheme", "all://host" or "all" (tried
	// in that order, as Python's requests does) to a proxy URL. A request
	// none matches uses $HTTP_PROXY, $HTTPS_PROXY and $NO_PROXY.
	Proxies map[string]string
}

// Client returns NewClient's client reaching servers as n says. A CA file
// that cannot be read or holds no certificate, or a proxy that is not a
// URL, is an error naming it.
func (n Network) Client(idlePerHost int, headerTimeout time.Duration) (*http.Client, error) {
	c := NewClient(idlePerHost, headerTimeout)
	t := c.Transport.(*http.Transport)
	switch n.SSLVerify {
	case "":
	case "false":
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // what ssl_verify: false asks for
	default:
		pool, err := certPool(n.SSLVerify)
		if err != nil {
			return nil, fmt.Errorf("ssl_verify %s: %w", n.SSLVerify, err)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	if len(n.Proxies) > 0 {
		proxies := map[string]*url.URL{}
		for k, v := range n.Proxies {
			u, err := url.Parse(v)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("proxy_servers %s: %q is not a proxy URL", k, v)
			}
			proxies[k] = u
		}
		t.Proxy = func(r *http.Request) (*url.URL, error) {
			for _, k := range []string{r.URL.Scheme + "://" + r.URL.Hostname(), r.URL.Scheme, "all://" + r.URL.Hostname(), "all"} {
				if u, ok := proxies[k]; ok {
					return u, nil
				}
			}
			return http.ProxyFromEnvironment(r)
		}
	}
	return c, nil
}

// certPool reads the PEM certificates of a file, or of every file in a
// folder.
func certPool(path string) (*x509.CertPool, error) {
	files := []string{path}
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		files = files[:0]
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	pool := x509.NewCertPool()
	found := false
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		found = pool.AppendCertsFromPEM(pem) || found
	}
	if !found {
		return nil, errors.New("no PEM certificate in it")
	}
	return pool, nil
}
