// Command dungeon_typestate runs a dungeon crawl as a typed state machine:
// each transition is checked by the compiler, appended to the log with an
// expected sequence, and the run is replayed from the log after a restart
// and resumed in the right type. -backend jetstream runs it over a NATS
// server started in-process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/batpak-go/batpak"
	"github.com/batpak-go/batpak/event"
	"github.com/batpak-go/batpak/examples/internal/backend"
	"github.com/batpak-go/batpak/typedid"
	"github.com/batpak-go/batpak/typestate"
)

// run tags the ids of dungeon runs: run:0190…
type run struct{}

func (run) Prefix() string { return "run" }

var backendName = backend.Flag()

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "batpak-dungeon-*")
	if err != nil {
		log.Fatal(err)
	}
	err = play(context.Background(), *backendName, dir, os.Stdout)
	if rmErr := os.RemoveAll(dir); err == nil {
		err = rmErr
	}
	if err != nil {
		log.Fatal(err)
	}
}

// play runs two sessions against the store in dir, closing it in between as
// a restart would, then replays the whole run.
func play(ctx context.Context, kind, dir string, w io.Writer) error {
	coord, err := typedid.New[run]().Coordinate("dungeon:crypt")
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "== the first session")
	var before typestate.Machine[exploring]
	err = withStore(ctx, kind, dir, func(st batpak.EventStore) (err error) {
		before, err = firstSession(ctx, st, coord, w)
		return err
	})
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "\n== the process restarts: replay the log and resume")
	return withStore(ctx, kind, dir, func(st batpak.EventStore) error {
		snap, err := typestate.Load(ctx, st, coord)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "replayed %d transitions: the run is %s\n", snap.Steps(), snap.State())
		if _, err := typestate.Resume[fighting](snap); err != nil {
			fmt.Fprintln(w, "asking for the wrong state:", err)
		}
		if err := secondSession(ctx, st, snap, w); err != nil {
			return err
		}

		fmt.Fprintln(w, "\n== a handle from before the restart is stale")
		_, _, err = typestate.ApplyTransition(ctx, st, before, encounter(monster{Name: "rat", HP: 1}))
		if !errors.Is(err, batpak.ErrSequenceMismatch) {
			return fmt.Errorf("the stale handle should conflict, got %v", err)
		}
		fmt.Fprintln(w, "the store refused it:", err)

		fmt.Fprintln(w, "\n== the run, replayed from the log")
		return tell(ctx, st, coord, w)
	})
}

// withStore opens the store in dir, runs f and closes the store.
func withStore(ctx context.Context, kind, dir string, f func(batpak.EventStore) error) error {
	st, err := backend.Open(ctx, kind, dir)
	if err != nil {
		return err
	}
	return errors.Join(f(st), st.Close())
}

// firstSession descends and wins a fight, then "crashes", leaving the run
// exploring. It returns its last handle to show later that it goes stale.
func firstSession(ctx context.Context, st batpak.EventStore, coord event.Coordinate, w io.Writer) (typestate.Machine[exploring], error) {
	at := typestate.Start[lobby](coord)
	exp, _, err := typestate.ApplyTransition(ctx, st, at, descend(party{Hero: "Brienne"}))
	if err != nil {
		return exp, err
	}
	fmt.Fprintln(w, "now", exp.State())
	fight, _, err := typestate.ApplyTransition(ctx, st, exp, encounter(monster{Name: "goblin", HP: 7}))
	if err != nil {
		return exp, err
	}
	fmt.Fprintln(w, "now", fight.State())
	exp, _, err = typestate.ApplyTransition(ctx, st, fight, win(victory{Loot: "rusty key", XP: 10}))
	if err != nil {
		return exp, err
	}
	fmt.Fprintln(w, "now", exp.State())

	// The compiler keeps the run honest; neither line below compiles:
	//
	//	typestate.ApplyTransition(ctx, st, exp, win(victory{}))  // exp is exploring; win leaves fighting
	//	typestate.ApplyTransition(ctx, st, at, escape(exit{}))    // nobody escapes from the lobby
	return exp, nil
}

// secondSession picks the run up in whatever state the log left it.
func secondSession(ctx context.Context, st batpak.EventStore, snap typestate.Snapshot, w io.Writer) error {
	switch snap.State() {
	case exploring{}.StateName():
		exp, err := typestate.Resume[exploring](snap)
		if err != nil {
			return err
		}
		fight, _, err := typestate.ApplyTransition(ctx, st, exp, encounter(monster{Name: "dragon", HP: 90}))
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "now", fight.State())
		exp, _, err = typestate.ApplyTransition(ctx, st, fight, win(victory{Loot: "dragon hoard", XP: 500}))
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "now", exp.State())
		done, _, err := typestate.ApplyTransition(ctx, st, exp, escape(exit{Gold: 1200}))
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "now", done.State())
	case fighting{}.StateName():
		fight, err := typestate.Resume[fighting](snap)
		if err != nil {
			return err
		}
		_, _, err = typestate.ApplyTransition(ctx, st, fight, fall(defeat{By: "a crash mid-fight"}))
		return err
	case escaped{}.StateName(), fallen{}.StateName():
		fmt.Fprintln(w, "the run is over")
	default:
		return fmt.Errorf("unexpected state %q", snap.State())
	}
	return nil
}

// tell replays the run's transitions with their payloads and folds them into
// a score.
func tell(ctx context.Context, st batpak.EventStore, coord event.Coordinate, w io.Writer) error {
	xp, gold := 0, 0
	for step, err := range typestate.History(ctx, st, coord.Entity()) {
		if err != nil {
			return err
		}
		e := step.Event
		var what string
		switch e.Kind {
		case kindDescended:
			_, p, err := typestate.Decode[party](e)
			if err != nil {
				return err
			}
			what = p.Hero + " descends"
		case kindEncountered:
			_, m, err := typestate.Decode[monster](e)
			if err != nil {
				return err
			}
			what = fmt.Sprintf("a %s (%d hp) attacks", m.Name, m.HP)
		case kindWon:
			_, v, err := typestate.Decode[victory](e)
			if err != nil {
				return err
			}
			xp += v.XP
			what = fmt.Sprintf("victory: %s, %d xp", v.Loot, v.XP)
		case kindFell:
			_, d, err := typestate.Decode[defeat](e)
			if err != nil {
				return err
			}
			what = "fallen to " + d.By
		case kindEscaped:
			_, x, err := typestate.Decode[exit](e)
			if err != nil {
				return err
			}
			gold = x.Gold
			what = fmt.Sprintf("escaped with %d gold", x.Gold)
		}
		fmt.Fprintf(w, "#%d %-9s -> %-9s %s\n", e.Sequence, step.From, step.To, what)
	}
	fmt.Fprintf(w, "score: %d xp, %d gold\n", xp, gold)
	return nil
}
