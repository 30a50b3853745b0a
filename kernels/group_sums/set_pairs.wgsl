// Set-pair sums: for every sample x and listed pair of sets (a, b),
// out[x][p] = Σ_{f ∈ a} Σ_{j ∈ b} cos[x][f][j] = Σ_{f ∈ a} sums[b][x][f] (set_sums.wgsl). With
// a = b it is ‖S_a‖², the squared norm of the set's sum of unit vectors; with a ≠ b it is
// ⟨S_a, S_b⟩. Spherical variance, the mean-direction cosines, the split halves and the
// cross-width halves follow from these per-sample scalars.
//
// Workgroup: WG invocations (a pipeline constant), one per (p, x), samples fastest: the lanes
// of a workgroup mostly share one pair, so they walk the same members in step (no divergent
// loops). Loop bound per invocation: the member texels of the largest set, plus one
// (asserted under the cap).
//
// Bindings:
//   0 params   uniform: models, samples (in this dispatch), pairs, gridX.
//   1 sums     rgba32float texture: set_sums.wgsl's packed output, texel (b·samples + x)·⌈M/4⌉
//              + j/4 holding sums[b][x][j] in component j mod 4 (a texel fetch: a storage load
//              costs several times one on a software adapter).
//   2 starts   r32uint texture: sets + 1 u32, each set's first member texel (as set_sums.wgsl).
//   3 members  rgba32uint texture: four model indices per texel, padded (as set_sums.wgsl).
//   4 pairList r32uint texture: per pair the sets a and b (u32 pairs).
//   5 out      storage read_write: samples × pairs f32.

override WG: u32 = 64u;

struct Params {
  models: u32,
  samples: u32,
  pairs: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var sums: texture_2d<f32>;
@group(0) @binding(2) var starts: texture_2d<u32>;
@group(0) @binding(3) var members: texture_2d<u32>;
@group(0) @binding(4) var pairList: texture_2d<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

// sums[b][x][j] with `base` = (b·samples + x)·⌈M/4⌉; 0 for a padding slot (j ≥ models).
fn rowSum(base: u32, j: u32) -> f32 {
  if (j >= params.models) {
    return 0.0;
  }
  return textureLoad(sums, texelAt(base + j / 4u), 0)[j % 4u];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let e = flatWorkgroup(wid, params.gridX) * WG + lane;
  if (e >= params.samples * params.pairs) {
    return;
  }
  let p = e / params.samples;
  let x = e % params.samples;
  let a = textureLoad(pairList, texelAt(2u * p), 0).x;
  let b = textureLoad(pairList, texelAt(2u * p + 1u), 0).x;
  let base = (b * params.samples + x) * ((params.models + 3u) / 4u);
  let last = textureLoad(starts, texelAt(a + 1u), 0).x;
  var acc = 0.0;
  for (var t = textureLoad(starts, texelAt(a), 0).x; t < last; t++) {
    let js = textureLoad(members, texelAt(t), 0);
    acc += rowSum(base, js.x) + rowSum(base, js.y) + rowSum(base, js.z) + rowSum(base, js.w);
  }
  out[x * params.pairs + p] = acc;
}
