package solve

import (
	"errors"
	"fmt"

	"github.com/condabox/condabox/pkg/conda"
)

// Validate checks that records form a valid environment for specs: one
// record per name, every spec met, every dependency of every record met by
// another record, and no record violating another's constraints. Include
// the target's virtual packages in records when records depend on them.
// The error lists every problem found.
func Validate(records []conda.PackageRecord, specs []conda.MatchSpec) error {
	var errs []error
	byName := make(map[string]*conda.PackageRecord, len(records))
	for i := range records {
		r := &records[i]
		if o, ok := byName[r.Name]; ok {
			errs = append(errs, fmt.Errorf("two records of %s: %s and %s", r.Name, o.Dist(), r.Dist()))
			continue
		}
		byName[r.Name] = r
	}
	for _, s := range specs {
		r, ok := byName[s.Name.String()]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("requested %s is missing", s))
		case !s.Matches(r):
			errs = append(errs, fmt.Errorf("requested %s is not met by %s", s, r.Dist()))
		}
	}
	for i := range records {
		r := &records[i]
		for _, text := range r.Depends {
			s, err := conda.ParseMatchSpec(text)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: dependency %q: %w", r.Dist(), text, err))
				continue
			}
			d, ok := byName[s.Name.String()]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s depends on %s, which is missing", r.Dist(), text))
			case !s.Matches(d):
				errs = append(errs, fmt.Errorf("%s depends on %s, not met by %s", r.Dist(), text, d.Dist()))
			}
		}
		for _, text := range r.Constrains {
			s, err := conda.ParseMatchSpec(text)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: constraint %q: %w", r.Dist(), text, err))
				continue
			}
			if d, ok := byName[s.Name.String()]; ok && !s.Matches(d) {
				errs = append(errs, fmt.Errorf("%s constrains %s, violated by %s", r.Dist(), text, d.Dist()))
			}
		}
	}
	return errors.Join(errs...)
}
