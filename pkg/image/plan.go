package image

import (
	"hash/fnv"
	"sort"
)

// Packages below smallPackageSize (bytes in the image) share layers: at
// most smallLayers of them, a package's chosen by a hash of its name, so
// that it stays in the same one across versions and environments. A layer
// costs every push and pull several requests (on a local registry a cold
// build of 27 packages spent more time on per-layer requests than on the
// bytes: 10 layers instead of 28 made it 0.15 s faster), and a small
// package's own layer saves little when it changes: its shared layer is
// small too.
const (
	smallPackageSize = 1 << 20
	smallLayers      = 4
)

// planned is a package as planLayers sees it.
type planned struct {
	dist, name string // name picks a small package's shared layer
	size       int64
}

// planLayers assigns packages to at most max layers and returns the
// package indexes of each layer. Packages of small bytes or more are
// planned as nix2container does, the others share smallLayers layers
// (small < 0: none do).
//
// The packages that weigh most get a layer each: an update of one of them
// changes only its layer, and a big unchanged package is never uploaded
// again. When there are more layers than max, the max-1 biggest packages
// are alone and all the others share the last layer, which stays small.
// Layers are ordered by package name (the shared ones last, in bucket
// order), so the plan does not depend on the order packages came in.
// Clobbered files are resolved before planning, so the order of layers
// does not change the image's file system.
func planLayers(pkgs []planned, max int, small int64) [][]int {
	idx := make([]int, len(pkgs))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		if pkgs[idx[a]].size != pkgs[idx[b]].size {
			return pkgs[idx[a]].size > pkgs[idx[b]].size
		}
		return pkgs[idx[a]].dist < pkgs[idx[b]].dist
	})
	byName := func(s []int) {
		sort.Slice(s, func(a, b int) bool { return pkgs[s[a]].dist < pkgs[s[b]].dist })
	}
	alone := idx
	var shared [][]int
	if small >= 0 {
		alone = nil
		buckets := make([][]int, smallLayers)
		for _, i := range idx {
			if pkgs[i].size >= small {
				alone = append(alone, i)
				continue
			}
			b := smallBucket(pkgs[i].name)
			buckets[b] = append(buckets[b], i)
		}
		for _, b := range buckets {
			if len(b) > 0 {
				shared = append(shared, b)
			}
		}
	}
	if len(alone)+len(shared) > max {
		alone, shared = idx, nil
		if len(idx) > max {
			alone, shared = idx[:max-1], [][]int{idx[max-1:]}
		}
	}
	byName(alone)
	var out [][]int
	for _, i := range alone {
		out = append(out, []int{i})
	}
	for _, s := range shared {
		byName(s)
		out = append(out, s)
	}
	return out
}

// smallBucket is the shared layer of a small package named name.
func smallBucket(name string) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % smallLayers)
}
