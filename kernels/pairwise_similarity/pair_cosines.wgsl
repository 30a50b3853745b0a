// Per-sample cosines of chosen model pairs, and fixed-bin histograms of them on [−1, 1].
//
// The input is one chunk of a batch of unit vectors, model-major: units[(m·samples + x)·dim + d].
// Zero gradients are stored as zero vectors and flagged in `zero`; a pair whose either member is
// zero at a sample gets NaN and is left out of its histogram.
//
// Tiling: one workgroup of WG invocations per (pair, sample) item; the items of a dispatch are
// numbered item = pair·samples + x and laid on a 2-D grid (gridX workgroups per row). Each
// invocation strides over dim with step WG, then the workgroup adds its WG partial dot products
// by a tree in workgroup memory. Loop bound per invocation: ceil(dim/WG) + log2(WG); the
// dispatcher asserts it is under its cap. TypeScript writes WG (a power of two) into this source.
//
// Bindings:
//   0 params   uniform: models, samples (in this chunk), dim, pairs, bins (0 = no histogram),
//              gridX.
//   1 units    storage read: models × samples × dim f32.
//   2 zero     storage read: models × samples u32, 1 where the gradient is zero.
//   3 pairList storage read: two u32 (i, j) per pair.
//   4 cosines  storage read_write: pairs × samples f32 (NaN where either is zero).
//   5 hist     storage read_write: pairs × bins atomic u32 counts; bin b holds the cosines in
//              [−1 + 2b/bins, −1 + 2(b+1)/bins), the last bin also 1 (and anything above).

const WG: u32 = {{WG}}u;

struct Params {
  models: u32,
  samples: u32,
  dim: u32,
  pairs: u32,
  bins: u32,
  gridX: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> units: array<f32>;
@group(0) @binding(2) var<storage, read> zero: array<u32>;
@group(0) @binding(3) var<storage, read> pairList: array<u32>;
@group(0) @binding(4) var<storage, read_write> cosines: array<f32>;
@group(0) @binding(5) var<storage, read_write> hist: array<atomic<u32>>;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let item = wid.x + wid.y * params.gridX;
  if (item >= params.pairs * params.samples) {
    return;
  }
  let p = item / params.samples;
  let x = item % params.samples;
  let i = pairList[2u * p];
  let j = pairList[2u * p + 1u];
  let rowI = (i * params.samples + x) * params.dim;
  let rowJ = (j * params.samples + x) * params.dim;
  var acc = 0.0;
  for (var d = lid; d < params.dim; d += WG) {
    acc = fma(units[rowI + d], units[rowJ + d], acc);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let invalid = zero[i * params.samples + x] != 0u || zero[j * params.samples + x] != 0u;
    if (invalid) {
      cosines[item] = bitcast<f32>(0x7fc00000u);
    } else {
      let c = clamp(partial[0], -1.0, 1.0);
      cosines[item] = c;
      if (params.bins > 0u) {
        let b = min(u32(floor((c + 1.0) * 0.5 * f32(params.bins))), params.bins - 1u);
        atomicAdd(&hist[p * params.bins + b], 1u);
      }
    }
  }
}
