// Command ferretdb serves FerretDB (the MongoDB wire protocol over SQLite or PostgreSQL) on
// loopback for the project's tests, through FerretDB's embeddable package.
//
// FerretDB's own command cannot be used as built from the Go module proxy: it panics at start
// for want of a version file that only FerretDB's release tooling writes. The embeddable
// package has no such check, and this command is only the flags and the signal handling.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// ferretdbModule is the module whose version --version reports.
const ferretdbModule = "github.com/FerretDB/FerretDB"

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite directory URL (handler sqlite), e.g. file:/var/lib/ferretdb/")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL URL (handler postgresql)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	showVersion := flag.Bool("version", false, "print FerretDB's version and exit")
	flag.Parse()

	if *showVersion {
		fmt.Println("FerretDB", moduleVersion())
		return
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: --log-level: %v\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       *handler,
		SQLiteURL:     *sqliteURL,
		PostgreSQLURL: *postgresURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("serving", "version", moduleVersion(), "uri", server.MongoDBURI())
	if err := server.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}

// moduleVersion is the FerretDB module version this command was built with.
func moduleVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == ferretdbModule {
			return dep.Version
		}
	}
	return "unknown"
}
