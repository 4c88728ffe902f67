package conda

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// VersionSpec is a parsed version constraint in conda's syntax:
//
//	==1.2  !=1.2  <1.2  <=1.2  >1.2  >=1.2  ~=1.2.3
//	1.2       exact (1.2 matches 1.2.0 too)
//	=1.2  1.2.*  1.2*   prefix, component-wise (1.2.* does not match 1.20)
//	!=1.2.*   not the prefix
//	*  or ""  any version
//	^1\.2.*$  a regular expression on the version text; 1.*.3 is a glob
//	>=1,<2|3.*  "," (and) binds tighter than "|" (or); parentheses group
//
// Like conda, a ".*" after "==", "<", "<=", ">" or ">=" is ignored, so
// "==1.2.*" means "==1.2". The zero VersionSpec matches every version.
//
// Where conda misbehaves this is stricter: operands side by side without ","
// or "|" ("(1.2)1.3", which conda reads as "1.2"), "~=" with a one-component
// version (conda fails when matching) and "@" in a version (conda compares
// the text) are errors. Regexes use Go's RE2 syntax, which lacks
// look-around and back-references.
type VersionSpec struct {
	node specNode
}

// specOp is what a node of a version spec tests.
type specOp uint8

const (
	opAny           specOp = iota // "*" or empty: every version
	opAnd                         // every kid matches (",")
	opOr                          // some kid matches ("|")
	opEq                          // "==1.2" and bare "1.2"
	opNe                          // "!=1.2"
	opLt                          // "<1.2"
	opLe                          // "<=1.2"
	opGt                          // ">1.2"
	opGe                          // ">=1.2"
	opStartsWith                  // "=1.2", "1.2.*", "1.2*"
	opNotStartsWith               // "!=1.2.*"
	opCompatible                  // "~=1.2.3"
	opRegex                       // "^1\.2.*$", or a glob with an inner '*' such as "1.*.3"
)

// specNode is one node of a parsed version spec: a leaf test or an and/or of
// kids.
type specNode struct {
	op      specOp
	text    string         // a leaf's canonical text
	version Version        // the operand of comparison and prefix leaves
	prefix  *Version       // opCompatible: the prefix a match must start with
	re      *regexp.Regexp // opRegex
	kids    []specNode     // opAnd, opOr: at least two, none with the same op
}

// ParseVersionSpec parses a version constraint such as ">=1.2,<2|3.*".
// Whitespace around operands, "|", "," and parentheses is ignored.
func ParseVersionSpec(s string) (VersionSpec, error) {
	p := specParser{src: s}
	p.advance()
	if p.tok.kind == tokEnd {
		return VersionSpec{}, nil // an empty spec matches everything
	}
	n, err := p.parseExpr(opOr)
	if err == nil && p.tok.kind != tokEnd {
		err = fmt.Errorf("unexpected %q at offset %d", p.tok.text, p.tok.off)
	}
	if err != nil {
		return VersionSpec{}, fmt.Errorf("parse version spec %q: %w", s, err)
	}
	return VersionSpec{node: n}, nil
}

// Matches reports whether v satisfies the spec.
func (s VersionSpec) Matches(v Version) bool { return s.node.matches(v) }

// String returns the canonical form of the spec; parsing it gives back an
// equivalent spec. Operands keep their text; and/or groups are flattened and
// parenthesized only when nested.
func (s VersionSpec) String() string {
	if s.node.op == opAny {
		return "*"
	}
	var b strings.Builder
	s.node.write(&b, true)
	return b.String()
}

// IsAny reports whether the spec accepts every version ("*", empty, or a
// combination of them such as "*|>1").
func (s VersionSpec) IsAny() bool { return s.node.isAny() }

func (n *specNode) matches(v Version) bool {
	switch n.op {
	case opAny:
		return true
	case opAnd:
		for i := range n.kids {
			if !n.kids[i].matches(v) {
				return false
			}
		}
		return true
	case opOr:
		for i := range n.kids {
			if n.kids[i].matches(v) {
				return true
			}
		}
		return false
	case opEq:
		return v.Equal(n.version)
	case opNe:
		return !v.Equal(n.version)
	case opLt:
		return v.Compare(n.version) < 0
	case opLe:
		return v.Compare(n.version) <= 0
	case opGt:
		return v.Compare(n.version) > 0
	case opGe:
		return v.Compare(n.version) >= 0
	case opStartsWith:
		return v.StartsWith(n.version)
	case opNotStartsWith:
		return !v.StartsWith(n.version)
	case opCompatible:
		return v.Compare(n.version) >= 0 && v.StartsWith(*n.prefix)
	case opRegex:
		return n.re.MatchString(v.String())
	}
	return false
}

func (n *specNode) isAny() bool {
	switch n.op {
	case opAny:
		return true
	case opOr:
		for i := range n.kids {
			if n.kids[i].isAny() {
				return true
			}
		}
	case opAnd:
		for i := range n.kids {
			if !n.kids[i].isAny() {
				return false
			}
		}
		return true
	}
	return false
}

func (n *specNode) write(b *strings.Builder, top bool) {
	if n.op != opAnd && n.op != opOr {
		b.WriteString(n.text)
		return
	}
	sep := ","
	if n.op == opOr {
		sep = "|"
	}
	if !top {
		b.WriteByte('(')
	}
	for i := range n.kids {
		if i > 0 {
			b.WriteString(sep)
		}
		n.kids[i].write(b, false)
	}
	if !top {
		b.WriteByte(')')
	}
}

// Token kinds of the spec grammar.
const (
	tokEnd     = 0
	tokOperand = 'v'
	tokOpen    = '('
	tokClose   = ')'
	tokOr      = '|'
	tokAnd     = ','
)

type specToken struct {
	kind byte
	text string
	off  int
}

// specParser is a recursive-descent parser over conda's spec tokens:
//
//	expr := and ('|' and)*    and := atom (',' atom)*    atom := '(' expr ')' | operand
type specParser struct {
	src   string
	pos   int
	tok   specToken // the current token
	depth int       // open parentheses, bounded so that input cannot exhaust the stack
}

// maxSpecDepth bounds parenthesis nesting; Python's recursion limit stops
// conda at a similar depth.
const maxSpecDepth = 1000

// advance reads the next token. Like conda's tokenizer, an operand starting
// with '^' runs to the next '$' (a regex may hold '|', ',' and parentheses);
// any other operand runs to the next '(', ')', '|' or ','.
func (p *specParser) advance() {
	i := p.pos
	for i < len(p.src) {
		r, size := utf8.DecodeRuneInString(p.src[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += size
	}
	if i == len(p.src) {
		p.tok, p.pos = specToken{kind: tokEnd, off: i}, i
		return
	}
	switch c := p.src[i]; c {
	case tokOpen, tokClose, tokOr, tokAnd:
		p.tok, p.pos = specToken{kind: c, text: p.src[i : i+1], off: i}, i+1
		return
	case '^':
		if j := strings.IndexByte(p.src[i:], '$'); j >= 0 {
			p.tok, p.pos = specToken{kind: tokOperand, text: p.src[i : i+j+1], off: i}, i+j+1
			return
		}
	}
	j := strings.IndexAny(p.src[i:], "()|,")
	if j < 0 {
		j = len(p.src) - i
	}
	p.tok = specToken{kind: tokOperand, text: strings.TrimRightFunc(p.src[i:i+j], unicode.IsSpace), off: i}
	p.pos = i + j
}

// parseExpr parses a list of operands of op (opOr or opAnd) joined by its
// separator, flattening nested groups of the same op.
func (p *specParser) parseExpr(op specOp) (specNode, error) {
	sep, sub := byte(tokOr), func() (specNode, error) { return p.parseExpr(opAnd) }
	if op == opAnd {
		sep, sub = tokAnd, p.parseAtom
	}
	first, err := sub()
	if err != nil || p.tok.kind != sep {
		return first, err
	}
	group := specNode{op: op}
	group.add(first)
	for p.tok.kind == sep {
		p.advance()
		n, err := sub()
		if err != nil {
			return specNode{}, err
		}
		group.add(n)
	}
	return group, nil
}

// add appends n to the group, splicing in n's kids when it is a group of the
// same op: (a|b)|c is a|b|c.
func (n *specNode) add(kid specNode) {
	if kid.op == n.op {
		n.kids = append(n.kids, kid.kids...)
		return
	}
	n.kids = append(n.kids, kid)
}

func (p *specParser) parseAtom() (specNode, error) {
	tok := p.tok
	switch tok.kind {
	case tokOperand:
		p.advance()
		n, err := parseSpecOperand(tok.text)
		if err != nil {
			return specNode{}, fmt.Errorf("%q at offset %d: %w", tok.text, tok.off, err)
		}
		return n, nil
	case tokOpen:
		if p.depth++; p.depth > maxSpecDepth {
			return specNode{}, fmt.Errorf("parentheses nested deeper than %d at offset %d", maxSpecDepth, tok.off)
		}
		p.advance()
		n, err := p.parseExpr(opOr)
		if err != nil {
			return specNode{}, err
		}
		if p.tok.kind != tokClose {
			return specNode{}, fmt.Errorf("missing ')' for '(' at offset %d", tok.off)
		}
		p.depth--
		p.advance()
		return n, nil
	case tokEnd:
		return specNode{}, fmt.Errorf("missing version at the end")
	default:
		return specNode{}, fmt.Errorf("expected a version or '(' at offset %d, found %q", tok.off, tok.text)
	}
}

// specOperators maps conda's relational operators to ops, two-character
// operators first so that the longest one is found.
var specOperators = []struct {
	text string
	op   specOp
}{
	{"==", opEq}, {"!=", opNe}, {"<=", opLe}, {">=", opGe}, {"~=", opCompatible},
	{"=", opStartsWith}, {"<", opLt}, {">", opGt},
}

// parseSpecOperand parses one operand, checking its forms in conda's order:
// regex, operator, "*", glob, trailing-star prefix, exact version.
func parseSpecOperand(text string) (specNode, error) {
	switch {
	case text == "*":
		return specNode{op: opAny, text: text}, nil
	case text[0] == '^' || text[len(text)-1] == '$':
		if text[0] != '^' || text[len(text)-1] != '$' {
			return specNode{}, fmt.Errorf("a regex must start with '^' and end with '$'")
		}
		re, err := regexp.Compile(text)
		if err != nil {
			return specNode{}, fmt.Errorf("bad regex: %w", err)
		}
		return specNode{op: opRegex, text: text, re: re}, nil
	case strings.IndexByte("=<>!~", text[0]) >= 0:
		return parseOperatorOperand(text)
	case strings.Contains(strings.TrimRight(text, "*"), "*"):
		// conda turns a glob with an inner '*' into a regex over the text.
		rx := "^(?:" + globReplacer.Replace(text) + ")$"
		re, err := regexp.Compile(rx)
		if err != nil {
			return specNode{}, fmt.Errorf("bad glob: %w", err)
		}
		return specNode{op: opRegex, text: text, re: re}, nil
	case text[len(text)-1] == '*':
		// "1.2*" and "1.2.*" both test the prefix 1.2, as in conda.
		vtext := text
		if !strings.HasSuffix(vtext, ".*") {
			vtext = vtext[:len(vtext)-1] + ".*"
		}
		vtext = strings.TrimRight(strings.TrimRight(vtext, "*"), ".")
		v, err := ParseVersion(vtext)
		if err != nil {
			return specNode{}, err
		}
		canon := vtext + ".*"
		if strings.Contains(vtext, "*") {
			canon = text // "1.2**": vtext "1.2*" would read back as a glob
		}
		return specNode{op: opStartsWith, text: canon, version: v}, nil
	default:
		v, err := ParseVersion(text)
		if err != nil {
			return specNode{}, err
		}
		return specNode{op: opEq, text: text, version: v}, nil
	}
}

var globReplacer = strings.NewReplacer(".", `\.`, "+", `\+`, "*", ".*")

// parseOperatorOperand parses "<op><version>" the way conda's
// version_relation_re does: no space after the operator, and the operator
// must not be followed by another operator character.
func parseOperatorOperand(text string) (specNode, error) {
	for _, o := range specOperators {
		vtext, ok := strings.CutPrefix(text, o.text)
		if !ok {
			continue
		}
		switch {
		case vtext == "":
			return specNode{}, fmt.Errorf("missing version after %q", o.text)
		case strings.IndexByte("=<>!~", vtext[0]) >= 0:
			return specNode{}, fmt.Errorf("invalid operator %q", text[:len(o.text)+1])
		case strings.IndexFunc(vtext, unicode.IsSpace) >= 0:
			return specNode{}, fmt.Errorf("whitespace after %q: the version must follow the operator directly", o.text)
		}
		op := o.op
		if base, ok := strings.CutSuffix(vtext, ".*"); ok {
			switch op {
			case opNe:
				op = opNotStartsWith
			case opCompatible:
				return specNode{}, fmt.Errorf("'~=' cannot be used with '.*'")
			}
			vtext = base // for other operators conda ignores the ".*"
		}
		v, err := ParseVersion(vtext)
		if err != nil {
			return specNode{}, err
		}
		n := specNode{op: op, text: text, version: v}
		if op == opCompatible {
			prefix, ok := v.compatiblePrefix()
			if !ok {
				return specNode{}, fmt.Errorf("'~=' needs a version with at least two components")
			}
			n.prefix = &prefix
		}
		return n, nil
	}
	return specNode{}, fmt.Errorf("unknown operator")
}
