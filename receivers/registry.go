package receivers

import (
	"errors"
	"fmt"

	"github.com/alertgate/alertgate/config"
)

// Registry holds the receiver of every configured integration.
type Registry struct {
	byName    map[string]*entry
	pagerDuty []*entry
}

type entry struct {
	r  Receiver
	in config.Integration
}

// NewRegistry builds a receiver for every integration. It reports every
// problem at once; names must be unique.
func NewRegistry(ins []config.Integration) (*Registry, error) {
	reg := &Registry{byName: make(map[string]*entry, len(ins))}
	var errs []error
	for _, in := range ins {
		r, err := New(in)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := reg.byName[in.Name]; dup {
			errs = append(errs, fmt.Errorf("receivers: integration %q: name used twice", in.Name))
			continue
		}
		e := &entry{r: r, in: in}
		reg.byName[in.Name] = e
		if in.Type == config.TypePagerDuty {
			reg.pagerDuty = append(reg.pagerDuty, e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return reg, nil
}

// Get returns the integration called name (POST /hooks/{name}).
func (reg *Registry) Get(name string) (Receiver, config.Integration, bool) {
	e, ok := reg.byName[name]
	if !ok {
		return nil, config.Integration{}, false
	}
	return e.r, e.in, true
}

// ByRoutingKey returns the pagerduty integration that owns key (POST
// /v2/enqueue). Every routing key of every pagerduty integration is
// compared in constant time, so the time taken does not tell whether or
// where a key matched.
func (reg *Registry) ByRoutingKey(key string) (Receiver, config.Integration, bool) {
	var found *entry
	for _, e := range reg.pagerDuty {
		if config.MatchAny(e.in.RoutingKeys, key) && found == nil {
			found = e
		}
	}
	if found == nil {
		return nil, config.Integration{}, false
	}
	return found.r, found.in, true
}
