// Package redact removes secrets from URLs and from text that may contain
// URLs: anaconda.org style tokens (`/t/<token>/`, `?token=<token>`), pre-signed
// download signatures (`X-Amz-Signature=…`) and basic-auth passwords
// (`user:password@host`). Use it for everything that a user or a log may see.
package redact
