// Cosines from scaled Grams. One invocation per entry (x, i, j) of a batch's Grams:
// cos[x][i][j] = raw[x][i][j] · (inv[x][i] · inv[x][j]) clamped to [−1, 1], 1 on the diagonal of
// a live row, and 0 in every row and column of a row that row_scales.wgsl left out (zero, or
// holding NaN/±Inf; its inverse norm is 0, inv_norms.wgsl). Consecutive lanes read
// consecutive entries and inverse norms.
//
// Workgroup: WG invocations (a pipeline constant). No loop (loop bound 0).
//
// Bindings:
//   0 params   uniform: models, samples (in this dispatch), gridX.
//   1 raw      storage read: samples × models × models f32 (sample_grams.wgsl's output).
//   2 inv      texture: samples × models f32 (inv_norms.wgsl's output, a flat texture).
//   3 cosines  write-only storage texture: samples × models × models f32, as a flat r32float texture (prelude's texelAt; texel fetches are
//              far cheaper than storage loads on software adapters).

override WG: u32 = 64u;

struct Params {
  models: u32,
  samples: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> raw: array<f32>;
@group(0) @binding(2) var inv: texture_2d<f32>;
@group(0) @binding(3) var cosines: texture_storage_2d<r32float, write>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let m = params.models;
  let mm = m * m;
  let e = flatWorkgroup(wid, params.gridX) * WG + lane;
  if (e >= params.samples * mm) {
    return;
  }
  let x = e / mm;
  let i = (e % mm) / m;
  let j = e % m;
  let a = textureLoad(inv, texelAt(x * m + i), 0).x;
  let b = textureLoad(inv, texelAt(x * m + j), 0).x;
  // a · b first: the product is symmetric, so cos[x][i][j] and cos[x][j][i] are the same f32.
  var c = clamp(raw[e] * (a * b), -1.0, 1.0);
  if (i == j && a > 0.0) {
    c = 1.0;
  }
  textureStore(cosines, texelAt(e), vec4f(c, 0.0, 0.0, 0.0));
}
