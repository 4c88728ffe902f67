package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/atomicfile"
	"github.com/condabox/condabox/pkg/repodata"
)

// authFilePath is micromamba's credentials file in the home folder.
func authFilePath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, repodata.AuthFile), nil
}

// authKey is the file's key for a channel host given as a host, host/path
// or URL: host[:port][/path], without a trailing slash.
func authKey(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return "", fmt.Errorf("%q: want a host, host/path or URL without credentials", s)
	}
	return u.Host + strings.TrimSuffix(u.Path, "/"), nil
}

// readAuthFile reads the credentials file: its path and entries.
func readAuthFile() (string, map[string]repodata.AuthEntry, error) {
	path, err := authFilePath()
	if err != nil {
		return "", nil, err
	}
	entries, err := repodata.ReadAuthFile(path)
	return path, entries, err
}

// writeAuthFile writes entries whole, readable by its owner only.
func writeAuthFile(path string, entries map[string]repodata.AuthEntry) error {
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}

func newAuthCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Store or remove the credentials of a channel host",
		Long: `auth keeps channel credentials in ~/.mamba/auth/authentication.json, the file
micromamba keeps them in, which create, install, search and build read: a
conda token (anaconda.org style, sent as /t/TOKEN/ in the URL), a bearer
token (prefix.dev style, an Authorization header) or a user and password
(HTTP basic auth), by host or host/path. Credentials in a
channel URL, and CONDABOX_BASIC_AUTH, win over the file; the file wins over
~/.netrc. Nothing condabox prints shows them.`,
	}
	var username, password, token, bearer string
	login := &cobra.Command{
		Use:   "login HOST",
		Short: "Store a token (--token, --bearer) or a user and password (--username; the password from --password or stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := authKey(args[0])
			if err != nil {
				return err
			}
			var e repodata.AuthEntry
			given := 0
			for _, s := range []string{token, bearer, username} {
				if s != "" {
					given++
				}
			}
			switch {
			case given != 1:
				return errors.New("auth login: give one of --token, --bearer, or --username (with --password or the password on stdin)")
			case token != "":
				e = repodata.AuthEntry{Type: repodata.AuthToken, Token: token}
			case bearer != "":
				e = repodata.AuthEntry{Type: repodata.AuthBearer, Token: bearer}
			default:
				if password == "" {
					line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
					if password = strings.TrimRight(line, "\r\n"); password == "" {
						return fmt.Errorf("auth login %s: no password on stdin: %v", key, err)
					}
				}
				e = repodata.AuthEntry{Type: repodata.AuthBasic, User: username, Password: password}
			}
			path, entries, err := readAuthFile()
			if err != nil {
				return err
			}
			entries[key] = e
			if err := writeAuthFile(path, entries); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Stored the credentials of %s in %s\n", key, path)
			return nil
		},
	}
	login.Flags().StringVar(&token, "token", "", "conda token (anaconda.org style)")
	login.Flags().StringVar(&bearer, "bearer", "", "bearer token (prefix.dev style), sent as an Authorization header")
	login.Flags().StringVar(&username, "username", "", "user for HTTP basic auth")
	login.Flags().StringVar(&password, "password", "", "password for HTTP basic auth (default: read from stdin, which keeps it out of the shell history)")
	logout := &cobra.Command{
		Use:   "logout HOST",
		Short: "Remove the stored credentials of a host",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := authKey(args[0])
			if err != nil {
				return err
			}
			path, entries, err := readAuthFile()
			if err != nil {
				return err
			}
			if _, ok := entries[key]; !ok {
				return fmt.Errorf("auth logout: no credentials stored for %s in %s", key, path)
			}
			delete(entries, key)
			return writeAuthFile(path, entries)
		},
	}
	cmd.AddCommand(login, logout)
	return cmd
}
