// Per-block pair sums: for every sample block b of a batch and every pair (i, j),
// sums[b][i][j] = Σ_{x ∈ b} cos[x][i][j] and counts[b][i][j] = the samples of b where both rows
// are live. Consecutive lanes read consecutive entries. The blocks are contiguous sample ranges of the batch (the bootstrap's blocks cut by
// the batch), so the host adds a block's parts from consecutive batches; p_ind and its
// intervals follow from these M×M sums alone.
//
// Workgroup: WG invocations (a pipeline constant), one per (b, i, j). Loop bound per
// invocation: the longest block range of the dispatch (asserted under the cap; batches are cut
// to at most LOOP_CAP − 1 samples).
//
// Bindings:
//   0 params  uniform: models, samples (in this dispatch), blocks, gridX.
//   1 cosines texture: samples × models × models f32 (cosines.wgsl's output, a flat texture).
//   2 inv     texture: samples × models f32, > 0 for a live row (inv_norms.wgsl, a flat texture).
//   3 ranges  storage read: per block its first sample and one past its last (u32 pairs).
//   4 sums    storage read_write: blocks × models × models f32.
//   5 counts  storage read_write: blocks × models × models u32.

override WG: u32 = 64u;

struct Params {
  models: u32,
  samples: u32,
  blocks: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var cosines: texture_2d<f32>;
@group(0) @binding(2) var inv: texture_2d<f32>;
@group(0) @binding(3) var<storage, read> ranges: array<u32>;
@group(0) @binding(4) var<storage, read_write> sums: array<f32>;
@group(0) @binding(5) var<storage, read_write> counts: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let m = params.models;
  let mm = m * m;
  let e = flatWorkgroup(wid, params.gridX) * WG + lane;
  if (e >= params.blocks * mm) {
    return;
  }
  let b = e / mm;
  let ij = e % mm;
  let i = ij / m;
  let j = ij % m;
  var s = 0.0;
  var c = 0u;
  for (var x = ranges[2u * b]; x < ranges[2u * b + 1u]; x++) {
    s += textureLoad(cosines, texelAt(x * mm + ij), 0).x;
    if (textureLoad(inv, texelAt(x * m + i), 0).x > 0.0 && textureLoad(inv, texelAt(x * m + j), 0).x > 0.0) {
      c++;
    }
  }
  sums[e] = s;
  counts[e] = c;
}
