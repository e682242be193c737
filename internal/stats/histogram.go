package stats

import "sort"

// LatencyBoundsMS are the upper bounds (inclusive, in milliseconds) of the
// fixed latency buckets every replica records; one more bucket holds
// everything slower. Fixed buckets add up exactly across replicas and
// minutes, so percentiles of a merged window are as good as those of one
// bucket. Changing them needs a new record version.
var LatencyBoundsMS = []float64{1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000}

// histogram counts observations per bucket: len(LatencyBoundsMS)+1 counts.
type histogram []int64

func newHistogram() histogram { return make(histogram, len(LatencyBoundsMS)+1) }

// bucketOf is the index of the bucket holding ms.
func bucketOf(ms float64) int {
	return sort.SearchFloat64s(LatencyBoundsMS, ms) // first bound >= ms; len = overflow
}

func (h histogram) add(o histogram) {
	if len(o) != len(h) {
		return // a record written with other bounds: ignored (see record version)
	}
	for i, n := range o {
		h[i] += n
	}
}

// quantile estimates the q-quantile (0 < q <= 1) the way Prometheus'
// histogram_quantile does: find the bucket holding the rank, interpolate
// linearly inside it. The first bucket starts at 0; the overflow bucket and
// any estimate are capped at max, the slowest observation.
func (h histogram) quantile(q, max float64) float64 {
	var total int64
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var cum int64
	for i, n := range h {
		if n == 0 {
			continue
		}
		if float64(cum+n) >= rank {
			if i == len(LatencyBoundsMS) {
				return max
			}
			lower := 0.0
			if i > 0 {
				lower = LatencyBoundsMS[i-1]
			}
			upper := LatencyBoundsMS[i]
			v := lower + (upper-lower)*(rank-float64(cum))/float64(n)
			if max > 0 && v > max {
				v = max
			}
			return v
		}
		cum += n
	}
	return max
}
