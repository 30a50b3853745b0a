// Per-block pair sums: for every sample block b of a batch and every pair (i, j),
// sums[b][i][j] = Σ_{x ∈ b} cos[x][i][j] and counts[b][i][j] = the samples of b where both rows
// are live. One invocation per (b, i, columns 4q … 4q + 3): one packed cosine texel and one
// inverse-norm texel per sample feed four sums. The blocks are contiguous sample ranges of the
// batch (the bootstrap's blocks cut by the batch), so the host adds a block's parts from
// consecutive batches; p_ind and its intervals follow from these M×M sums alone.
//
// Workgroup: WG invocations (a pipeline constant). Loop bound per invocation: the longest block
// range of the dispatch (asserted under the cap; batches are cut to at most LOOP_CAP − 1
// samples).
//
// Bindings:
//   0 params  uniform: models, samples (in this dispatch), blocks, gridX.
//   1 cosines rgba32float texture: cosines.wgsl's packed output.
//   2 inv     rgba32float texture: inverse norms, > 0 for a live row (inv_norms.wgsl, packed).
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
  let m4 = (m + 3u) / 4u;
  let e = flatWorkgroup(wid, params.gridX) * WG + lane;
  if (e >= params.blocks * m * m4) {
    return;
  }
  let q = e % m4;
  let b = e / (m * m4);
  let i = (e / m4) % m;
  let x0 = ranges[2u * b];
  let x1 = ranges[2u * b + 1u];
  var s = vec4f(0.0);
  var c = vec4u(0u);
  for (var x = x0; x < x1; x++) {
    s += textureLoad(cosines, texelAt((x * m + i) * m4 + q), 0);
    let a = textureLoad(inv, texelAt(x * m4 + i / 4u), 0)[i % 4u];
    let live = textureLoad(inv, texelAt(x * m4 + q), 0) > vec4f(0.0);
    c += select(vec4u(0u), vec4u(1u), live & vec4<bool>(a > 0.0));
  }
  // The four columns' stores, unrolled: a loop here would add to the sample loop's count.
  let o = (b * m + i) * m + q * 4u;
  sums[o] = s.x;
  counts[o] = c.x;
  if (q * 4u + 1u < m) {
    sums[o + 1u] = s.y;
    counts[o + 1u] = c.y;
  }
  if (q * 4u + 2u < m) {
    sums[o + 2u] = s.z;
    counts[o + 2u] = c.z;
  }
  if (q * 4u + 3u < m) {
    sums[o + 3u] = s.w;
    counts[o + 3u] = c.w;
  }
}
