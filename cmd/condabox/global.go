package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// globalFlags are micromamba's options that every command takes: the
// configuration files (--rc-file, --no-rc, --no-env), how much is said
// (-v, --log-level, -q) and the network (--ssl-verify, --cacert-path,
// --channel-alias, --repodata-ttl; --ssl-no-revoke is Windows's only and
// changes nothing here).
type globalFlags struct {
	rcFiles     []string
	noRC, noEnv bool
	verbose     int
	logLevel    string
	quiet       bool
	sslVerify   string
	cacertPath  string
	alias       string
	ttl         int
	ttlSet      func() bool
	lockTimeout int
}

func (g *globalFlags) add(f *pflag.FlagSet) {
	f.StringArrayVar(&g.rcFiles, "rc-file", nil, "read this configuration file instead of searching for .condarc files (repeatable)")
	f.BoolVar(&g.noRC, "no-rc", false, "read no configuration file")
	f.BoolVar(&g.noEnv, "no-env", false, "ignore the CONDA_<KEY> and MAMBA_<KEY> variables that set configuration keys")
	f.CountVarP(&g.verbose, "verbose", "v", "say more on stderr: -v what is fetched, -vv debug details")
	f.StringVar(&g.logLevel, "log-level", "", "critical, error, warning (default), info, debug, trace or off")
	f.BoolVarP(&g.quiet, "quiet", "q", false, "print no progress and no summary (errors and --json output still)")
	f.StringVar(&g.sslVerify, "ssl-verify", "", `"false" to verify no server certificate, or a CA bundle to trust (.condarc's ssl_verify)`)
	f.StringVar(&g.cacertPath, "cacert-path", "", "CA bundle (PEM file or folder) to verify servers with")
	f.Bool("ssl-no-revoke", false, "Windows only (schannel): accepted, changes nothing here")
	f.StringVar(&g.alias, "channel-alias", "", "where channels given by name live (.condarc's channel_alias)")
	// micromamba takes -y on every command; the commands that ask (clean
	// -f, env remove) define their own, which this one leaves in place.
	f.BoolP("yes", "y", false, "do not ask for confirmation")
	f.IntVar(&g.ttl, "repodata-ttl", 0, "seconds a cached channel index is used without asking the server; 0 always asks, 1 follows the server (.condarc's local_repodata_ttl)")
	g.ttlSet = func() bool { return f.Changed("repodata-ttl") }
	f.IntVar(&g.lockTimeout, "lock-timeout", 0, "seconds to wait for a cache entry another process holds (.condarc's lock_timeout; 0 waits for ever)")
}

// apply checks the flags and sets what every command reads: lookupEnv,
// logger and quiet.
func (g *globalFlags) apply(stderr io.Writer) error {
	if g.noRC && len(g.rcFiles) > 0 {
		return errors.New("--no-rc and --rc-file exclude each other")
	}
	if g.sslVerify != "" && g.cacertPath != "" {
		return errors.New("--ssl-verify and --cacert-path exclude each other")
	}
	if g.ttlSet() && g.ttl < 0 {
		return fmt.Errorf("--repodata-ttl %d: want 0 or more seconds", g.ttl)
	}
	level, err := g.level()
	if err != nil {
		return err
	}
	over := map[string]string{}
	if g.noRC {
		over["CONDABOX_NO_RC"] = "1"
	}
	if len(g.rcFiles) > 0 {
		over["CONDABOX_RC_FILES"] = strings.Join(g.rcFiles, string(os.PathListSeparator))
	}
	if g.noEnv {
		over["CONDABOX_NO_ENV"] = "1"
	}
	if ca := g.sslVerify + g.cacertPath; ca != "" {
		over["CONDABOX_CLI_SSL_VERIFY"] = ca
	}
	if g.alias != "" {
		over["CONDABOX_CLI_CHANNEL_ALIAS"] = g.alias
	}
	if g.ttlSet() {
		over["CONDABOX_CLI_LOCAL_REPODATA_TTL"] = strconv.Itoa(g.ttl)
	}
	if g.lockTimeout < 0 {
		return fmt.Errorf("--lock-timeout %d: want 0 or more seconds", g.lockTimeout)
	}
	if g.lockTimeout > 0 {
		over["CONDABOX_CLI_LOCK_TIMEOUT"] = strconv.Itoa(g.lockTimeout)
	}
	lookupEnv = overLookup(over)
	quiet = g.quiet
	logger = slog.New(slog.DiscardHandler)
	if level != levelOff {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: dropTime}))
	}
	return nil
}

// levelOff logs nothing; levelTrace is micromamba's trace, below debug.
const (
	levelOff   = slog.Level(100)
	levelTrace = slog.LevelDebug - 4
)

// level is the log level -v, --log-level and -q ask for: warnings by
// default, -v info, -vv debug, -vvv trace; --log-level decides alone.
func (g *globalFlags) level() (slog.Level, error) {
	if g.logLevel != "" {
		levels := map[string]slog.Level{"critical": slog.LevelError + 4, "error": slog.LevelError, "warning": slog.LevelWarn, "info": slog.LevelInfo, "debug": slog.LevelDebug, "trace": levelTrace, "off": levelOff}
		l, ok := levels[strings.ToLower(g.logLevel)]
		if !ok {
			return 0, fmt.Errorf("--log-level %q: want critical, error, warning, info, debug, trace or off", g.logLevel)
		}
		return l, nil
	}
	switch {
	case g.verbose >= 3:
		return levelTrace, nil
	case g.verbose == 2:
		return slog.LevelDebug, nil
	case g.verbose == 1:
		return slog.LevelInfo, nil
	case g.quiet:
		return slog.LevelError, nil
	}
	return slog.LevelWarn, nil
}

// lookupEnv reads the process environment for every command: os.LookupEnv,
// with what the global flags say answered as the variables
// pkg/config reads (CONDABOX_RC_FILES, CONDABOX_NO_RC, CONDABOX_NO_ENV,
// CONDABOX_CLI_<KEY>).
var lookupEnv = os.LookupEnv

// logger receives what -v and --log-level ask to see; quiet is -q.
var (
	logger = slog.New(slog.DiscardHandler)
	quiet  bool
)

// overLookup returns os.LookupEnv with over's variables answered first.
func overLookup(over map[string]string) func(string) (string, bool) {
	if len(over) == 0 {
		return os.LookupEnv
	}
	return func(k string) (string, bool) {
		if v, ok := over[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	}
}

// dropTime leaves the time out of log lines, as micromamba's have none.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// dateFlag is a flag holding a point in time: an RFC 3339 time
// (2024-05-01T12:00:00Z) or a date (2024-05-01, its first second in UTC),
// as --exclude-newer takes it.
type dateFlag struct{ t *time.Time }

func (d dateFlag) String() string {
	if d.t == nil || d.t.IsZero() {
		return ""
	}
	return d.t.Format(time.RFC3339)
}

func (d dateFlag) Set(s string) error {
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			*d.t = t
			return nil
		}
	}
	return errors.New("want a date (2024-05-01) or an RFC 3339 time (2024-05-01T12:00:00Z)")
}

func (dateFlag) Type() string { return "date" }

// addExcludeNewer adds micromamba's --exclude-newer, setting t.
func addExcludeNewer(f *pflag.FlagSet, t *time.Time) {
	f.Var(dateFlag{t}, "exclude-newer", "solve without the packages uploaded after this date or time, as if the channels were then")
}
