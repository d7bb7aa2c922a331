package matchers

import (
	"regexp/syntax"
)

// What this file proves is used by check-config to refuse routes that can
// never match, or that shadow their later siblings. It is conservative: it
// reports only what is certain. "Not proven" is the answer whenever a
// regular expression is beyond its small reasoning.

// MatchesEverything reports whether m provably holds for every value,
// the empty one (a missing label) included: name=~"(?s).*" or
// name=~".*|…"-like expressions whose language is all strings, and
// name!~ of an expression that provably matches nothing. Note that ".*"
// alone does not qualify: "." does not match a line feed, so a value with
// one fails ^(?:.*)$.
func (m *Matcher) MatchesEverything() bool {
	switch m.Type {
	case Regexp:
		return isAllStrings(m.Value)
	case NotRegexp:
		vals, ok := finiteValues(m.Value)
		return ok && len(vals) == 0
	}
	return false
}

// MatchesNothing reports whether m provably holds for no value at all.
func (m *Matcher) MatchesNothing() bool {
	switch m.Type {
	case Regexp:
		vals, ok := finiteValues(m.Value)
		return ok && len(vals) == 0
	case NotRegexp:
		return isAllStrings(m.Value)
	}
	return false
}

// Contradiction returns matchers of ms (all on one label) that no value
// satisfies together: two where two suffice, one that no value satisfies
// alone, or a finite set with all the matchers that rule it out; ok is
// false when no contradiction is proven. It knows:
//
//   - a="x" with a="y", a!="x", a=~"re" that does not match x, or a!~"re"
//     that does;
//   - a=~"re" with a!~"re" (the same expression);
//   - a=~"x|y" (a finite set of literal strings) with whatever none of
//     them satisfies, e.g. a=~"x|y" with a=~"z|w", or with a!="x", a!="y";
//   - a matcher that matches nothing, such as a!~"(?s).*".
func Contradiction(ms Matchers) (Matchers, bool) {
	finite := make([][]string, len(ms))
	known := make([]bool, len(ms))
	for i, m := range ms {
		if m.MatchesNothing() {
			return Matchers{m}, true
		}
		finite[i], known[i] = m.values()
	}
	for i, m := range ms {
		for j := i + 1; j < len(ms); j++ {
			n := ms[j]
			if m.Name != n.Name {
				continue
			}
			if m.Value == n.Value && opposite(m.Type, n.Type) {
				return Matchers{m, n}, true
			}
			if known[i] && !someValue(finite[i], Matchers{n}) || known[j] && !someValue(finite[j], Matchers{m}) {
				return Matchers{m, n}, true
			}
		}
	}
	// A finite set that the other matchers of its label rule out between
	// them, none of them alone.
	for i, m := range ms {
		if !known[i] {
			continue
		}
		others := Matchers{}
		for j, n := range ms {
			if j != i && n.Name == m.Name {
				others = append(others, n)
			}
		}
		if len(others) > 1 && !someValue(finite[i], others) {
			return append(Matchers{m}, others...), true
		}
	}
	return nil, false
}

func opposite(a, b Type) bool {
	return a == Regexp && b == NotRegexp || a == NotRegexp && b == Regexp ||
		a == Equal && b == NotEqual || a == NotEqual && b == Equal
}

// someValue reports whether one of values satisfies every matcher of ms.
func someValue(values []string, ms Matchers) bool {
	for _, v := range values {
		ok := true
		for _, m := range ms {
			if !m.Matches(v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// values is the finite set of values m allows, when it is provably finite.
func (m *Matcher) values() ([]string, bool) {
	switch m.Type {
	case Equal:
		return []string{m.Value}, true
	case Regexp:
		return finiteValues(m.Value)
	}
	return nil, false
}

// maxFinite bounds the sets finiteValues builds.
const maxFinite = 64

// finiteValues returns every string the anchored expression matches, when
// it is a small finite set built from literals, alternation, optional
// parts and small character classes; ok is false otherwise.
func finiteValues(expr string) ([]string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	set, ok := language(re.Simplify())
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(set))
	seen := make(map[string]bool, len(set))
	for _, s := range set {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, true
}

func language(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpNoMatch:
		return []string{}, true
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] >= maxFinite || len(out) > maxFinite {
				return nil, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				out = append(out, string(r))
			}
		}
		return out, len(out) <= maxFinite
	case syntax.OpCapture:
		return language(re.Sub[0])
	case syntax.OpQuest:
		sub, ok := language(re.Sub[0])
		if !ok {
			return nil, false
		}
		return append([]string{""}, sub...), len(sub) < maxFinite
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, ok := language(s)
			if !ok || len(out)+len(sub) > maxFinite {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			sub, ok := language(s)
			if !ok || len(out)*len(sub) > maxFinite {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(sub))
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// isAllStrings reports whether the anchored expression provably matches
// every string: (?s).*, or an alternation with such a branch.
func isAllStrings(expr string) bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return false
	}
	return allStrings(re.Simplify())
}

func allStrings(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpCapture:
		return allStrings(re.Sub[0])
	case syntax.OpStar:
		return re.Sub[0].Op == syntax.OpAnyChar
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if allStrings(s) {
				return true
			}
		}
	}
	return false
}
