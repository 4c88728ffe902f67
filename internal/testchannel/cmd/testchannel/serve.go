package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/redact"
)

func newServeCmd() *cobra.Command {
	var opts server.Options
	var userPass string
	cmd := &cobra.Command{
		Use:   "serve DIR",
		Short: "Serve a channel folder over HTTP until interrupted",
		Long: `Serve a channel folder over HTTP with ETag, Last-Modified and Range support,
as conda clients expect. Prints the channel URL (token and password redacted)
on stdout and one line per request on stderr.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if userPass != "" {
				var ok bool
				// The value is not quoted in the error: it may hold a password.
				if opts.User, opts.Password, ok = strings.Cut(userPass, ":"); !ok || opts.User == "" {
					return fmt.Errorf("--user: want USER:PASSWORD")
				}
			}
			opts.Log = cmd.ErrOrStderr()
			s, err := server.Start(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), redact.URL(s.URL()))
			<-cmd.Context().Done()
			return s.Close()
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:8000", "address to listen on (port 0: any free port)")
	cmd.Flags().StringVar(&opts.Token, "token", "", "require the path prefix /t/TOKEN/ (anaconda.org style)")
	cmd.Flags().StringVar(&userPass, "user", "", "require HTTP basic auth as USER:PASSWORD")
	return cmd
}
