package image

import "sort"

// planLayers assigns packages, given by name and size, to at most max
// layers and returns the package indexes of each layer.
//
// As nix2container does, the packages that weigh most get a layer each: an
// update of one of them changes only its layer, and a big unchanged package
// is never uploaded again. When there are more packages than layers, the
// max-1 biggest are alone and the rest share the last layer, which stays
// small. Layers are ordered by package name (the shared one last), so the
// plan does not depend on the order packages came in. Clobbered files are
// resolved before planning, so the order of layers does not change the
// image's file system.
func planLayers(names []string, sizes []int64, max int) [][]int {
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		if sizes[idx[a]] != sizes[idx[b]] {
			return sizes[idx[a]] > sizes[idx[b]]
		}
		return names[idx[a]] < names[idx[b]]
	})
	alone, shared := idx, []int(nil)
	if len(idx) > max {
		alone, shared = idx[:max-1], idx[max-1:]
	}
	byName := func(s []int) {
		sort.Slice(s, func(a, b int) bool { return names[s[a]] < names[s[b]] })
	}
	byName(alone)
	byName(shared)
	var out [][]int
	for _, i := range alone {
		out = append(out, []int{i})
	}
	if len(shared) > 0 {
		out = append(out, shared)
	}
	return out
}
