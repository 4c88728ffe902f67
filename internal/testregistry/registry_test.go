package testregistry

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestPushCountsUploadsAndAuth(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		auth        authn.Authenticator
		wantPushErr bool
	}{
		{name: "no auth", auth: authn.Anonymous},
		{name: "right password", opts: Options{User: "ci", Password: "pw"}, auth: &authn.Basic{Username: "ci", Password: "pw"}},
		{name: "wrong password", opts: Options{User: "ci", Password: "pw"}, auth: &authn.Basic{Username: "ci", Password: "nope"}, wantPushErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := Start(t, tt.opts)
			img, err := random.Image(1024, 2)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := name.ParseReference(reg.Host+"/test/img:v1", name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			err = remote.Write(ref, img, remote.WithAuth(tt.auth))
			if tt.wantPushErr {
				if err == nil {
					t.Fatal("push with a wrong password succeeded")
				}
				if n := len(reg.Uploads()); n != 0 {
					t.Errorf("rejected push uploaded %d blobs", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// two layers + the config blob
			if n := len(reg.Uploads()); n != 3 {
				t.Errorf("first push uploaded %d blobs, want 3: %v", n, reg.Uploads())
			}
			reg.ResetUploads()
			if err := remote.Write(ref, img, remote.WithAuth(tt.auth)); err != nil {
				t.Fatal(err)
			}
			if n := len(reg.Uploads()); n != 0 {
				t.Errorf("second push of the same image uploaded %d blobs, want 0", n)
			}
		})
	}
}
