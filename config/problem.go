package config

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// File is the config file, "" for a config built in code or loaded
	// from bytes without a name.
	File string
	// Line is 1-based; 0 when unknown (a config built in code).
	Line int
	// Field is the path of the offending field, e.g. "integrations[1].type".
	Field string
	// Message says what is wrong. It never contains a secret.
	Message string
}

// String formats the problem as "FILE:LINE: field.path: message", leaving
// out whatever is unknown.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0:
		b.WriteString(p.File + ":" + strconv.Itoa(p.Line) + ": ")
	case p.File != "":
		b.WriteString(p.File + ": ")
	case p.Line > 0:
		b.WriteString("line " + strconv.Itoa(p.Line) + ": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// LoadError carries every problem found in a configuration, so the operator
// can fix them all in one go. Load, LoadFile and Validate return it.
type LoadError struct {
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Problems makes a *LoadError of problems found after loading, by what
// compiles a config that passed Validate but knows rules Validate cannot
// (a notifier's own checks of its URL or token): each gets the file and
// the line of its field, like the loader's own.
func (c *Config) Problems(list ...Problem) error {
	if len(list) == 0 {
		return nil
	}
	for i := range list {
		list[i].File = c.Path
		if c.lineOf != nil {
			list[i].Line = c.lineOf(list[i].Field)
		}
	}
	return &LoadError{Problems: list}
}

// problems collects Problems as checks find them.
type problems struct {
	list []Problem
}

func (ps *problems) add(field, format string, args ...any) {
	ps.list = append(ps.list, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (ps *problems) addAt(line int, field, format string, args ...any) {
	ps.list = append(ps.list, Problem{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns nil or a *LoadError holding the problems sorted by line
// (problems without a line last, in the order they were found).
func (ps *problems) err(file string) error {
	if len(ps.list) == 0 {
		return nil
	}
	list := slices.Clone(ps.list)
	for i := range list {
		list[i].File = file
	}
	slices.SortStableFunc(list, func(a, b Problem) int {
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return &LoadError{Problems: list}
}
