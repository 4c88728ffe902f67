package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"
)

// listKeys are the keys whose values are lists: append, prepend and remove
// take them; set refuses them (micromamba's rule).
var listKeys = []string{"channels", "default_channels", "pkgs_dirs", "envs_dirs", "pinned_packages", "allowlist_channels", "denylist_channels"}

// IsListKey reports whether key holds a list of strings.
func IsListKey(key string) bool { return slices.Contains(listKeys, key) }

// File is one configuration file being edited as `condabox config` edits
// it: its comments, key order and other keys are kept.
type File struct {
	doc yaml.Node // a document node holding one mapping
}

// ParseFile reads a configuration file's bytes; empty data is an empty
// file. A file whose top level is not a mapping is refused.
func ParseFile(data []byte) (*File, error) {
	f := &File{}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.Unmarshal(data, &f.doc); err != nil {
			return nil, err
		}
	}
	switch {
	case f.doc.Kind == 0 || len(f.doc.Content) == 0 || f.doc.Content[0].Kind == yaml.ScalarNode && f.doc.Content[0].Tag == "!!null":
		f = fileOf(mapping())
	case f.doc.Content[0].Kind != yaml.MappingNode:
		return nil, errors.New("the top level is not a mapping of keys")
	}
	return f, nil
}

// Bytes returns the file's YAML, checked to be one Load reads.
func (f *File) Bytes() ([]byte, error) {
	out, err := f.encode()
	if err != nil {
		return nil, err
	}
	if len(f.root().Content) == 0 {
		out = nil // "{}" would be written for no key at all
	}
	if err := (&Config{}).merge(out); err != nil {
		return nil, err
	}
	return out, nil
}

func (f *File) root() *yaml.Node { return f.doc.Content[0] }

// fileOf is the File of mapping node m.
func fileOf(m *yaml.Node) *File {
	return &File{doc: yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}}}
}

// mapping is a mapping node of keys and values, in turn.
func mapping(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: kv}
}

// str is a string scalar node.
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// value returns the node of key, or nil.
func (f *File) value(key string) *yaml.Node {
	c := f.root().Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Value == key {
			return c[i+1]
		}
	}
	return nil
}

// Get returns key and its value as YAML ("channel_priority: strict\n");
// ok is false when the file lacks the key.
func (f *File) Get(key string) (yamlText string, ok bool, err error) {
	v := f.value(key)
	if v == nil {
		return "", false, nil
	}
	one := fileOf(mapping(str(key), v))
	b, err := one.encode()
	return string(b), true, err
}

// encode writes the file's YAML, lists indented by two spaces.
func (f *File) encode() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&f.doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Set sets key to value, read as a YAML scalar (true, 3600, strict). List
// keys are refused: append, prepend and remove change them.
func (f *File) Set(key, value string) error {
	if IsListKey(key) {
		return fmt.Errorf("%s is a list: use append, prepend or remove", key)
	}
	v, err := scalar(value)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	if old := f.value(key); old != nil {
		if old.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s is a list or mapping in this file: edit the file", key)
		}
		*old = *v
		return nil
	}
	f.root().Content = append(f.root().Content, str(key), v)
	return nil
}

// Append adds value at the end of list key, or prepend at its start; a
// value already there moves. The key is created when absent.
func (f *File) Append(key, value string, prepend bool) error {
	list, err := f.list(key, true)
	if err != nil {
		return err
	}
	list.Content = slices.DeleteFunc(list.Content, func(n *yaml.Node) bool { return n.Value == value })
	item := str(value)
	if prepend {
		list.Content = slices.Insert(list.Content, 0, item)
	} else {
		list.Content = append(list.Content, item)
	}
	list.Style = 0 // block style, one entry per line, as conda writes lists
	return nil
}

// Remove removes value from list key.
func (f *File) Remove(key, value string) error {
	list, err := f.list(key, false)
	if err != nil {
		return err
	}
	n := len(list.Content)
	list.Content = slices.DeleteFunc(list.Content, func(n *yaml.Node) bool { return n.Value == value })
	if len(list.Content) == n {
		return fmt.Errorf("%s has no entry %q", key, value)
	}
	return nil
}

// RemoveKey removes key and its value.
func (f *File) RemoveKey(key string) error {
	c := f.root().Content
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Value == key {
			f.root().Content = slices.Delete(c, i, i+2)
			return nil
		}
	}
	return fmt.Errorf("no key %s", key)
}

// list returns list key's node; create makes an empty one when absent.
func (f *File) list(key string, create bool) (*yaml.Node, error) {
	if !IsListKey(key) {
		return nil, fmt.Errorf("%s is not a list key (%v)", key, listKeys)
	}
	v := f.value(key)
	switch {
	case v == nil && !create:
		return nil, fmt.Errorf("no key %s", key)
	case v == nil:
		v = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		f.root().Content = append(f.root().Content, str(key), v)
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		*v = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	case v.Kind != yaml.SequenceNode:
		return nil, fmt.Errorf("%s is not a list in this file", key)
	}
	return v, nil
}

// scalar reads value as one YAML scalar.
func scalar(value string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(value), &doc); err != nil {
		return nil, fmt.Errorf("value %q: %w", value, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("value %q: want one value, not a list or mapping", value)
	}
	return doc.Content[0], nil
}

// MergeOptions narrow and annotate Merged's YAML.
type MergeOptions struct {
	// Keys, when given, are the only keys shown.
	Keys []string
	// ShowSource ends each value's line (each entry's, for a list) with a
	// comment naming the file that set it, as micromamba's config list
	// --show-source.
	ShowSource bool
}

// Merged returns what the configuration files (Paths) set, merged as Load
// merges them — a list holds the higher-precedence file's entries first,
// a mapping is merged key by key, any other value is the highest file's —
// as YAML, keys in the order they first appear; and the files read. No
// file, or none with a key, gives no YAML.
func Merged(lookup func(string) (string, bool), opts MergeOptions) (yamlText []byte, files []string, err error) {
	out := fileOf(mapping())
	for _, p := range Paths(lookup) {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read config: %w", err)
		}
		f, err := ParseFile(data)
		if err != nil {
			return nil, nil, fmt.Errorf("read config %s: %w", p, err)
		}
		files = append(files, p)
		uncomment(f.root()) // a file's comments would be out of place
		c := f.root().Content
		for i := 0; i+1 < len(c); i += 2 {
			key, v := c[i].Value, c[i+1]
			if len(opts.Keys) > 0 && !slices.Contains(opts.Keys, key) {
				continue
			}
			if opts.ShowSource {
				markSource(v, p)
			}
			cur := out.value(key)
			switch {
			case cur == nil:
				out.root().Content = append(out.root().Content, c[i], v)
			case cur.Kind == yaml.SequenceNode && v.Kind == yaml.SequenceNode:
				merged := slices.Clone(v.Content)
				for _, n := range cur.Content {
					if !slices.ContainsFunc(merged, func(m *yaml.Node) bool { return m.Value == n.Value }) {
						merged = append(merged, n)
					}
				}
				cur.Content = merged
			case cur.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode:
				sub := fileOf(cur)
				for j := 0; j+1 < len(v.Content); j += 2 {
					if old := sub.value(v.Content[j].Value); old != nil {
						*old = *v.Content[j+1]
					} else {
						cur.Content = append(cur.Content, v.Content[j], v.Content[j+1])
					}
				}
			default:
				*cur = *v
			}
		}
	}
	if len(out.root().Content) == 0 {
		return nil, files, nil
	}
	b, err := out.encode()
	return b, files, err
}

// markSource comments the scalars of v (a value, a list's entries, a
// mapping's values) with the file that set them; lists and mappings are
// written a line per entry then.
func markSource(v *yaml.Node, file string) {
	switch v.Kind {
	case yaml.ScalarNode:
		v.LineComment = "'" + file + "'"
	case yaml.SequenceNode:
		v.Style &^= yaml.FlowStyle
		for _, n := range v.Content {
			markSource(n, file)
		}
	case yaml.MappingNode:
		v.Style &^= yaml.FlowStyle
		for i := 1; i < len(v.Content); i += 2 {
			markSource(v.Content[i], file)
		}
	}
}

// uncomment removes the comments of n and below.
func uncomment(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		uncomment(c)
	}
}
