// Cosines from scaled Grams. One invocation per (sample x, row i, columns 4q … 4q + 3):
// cos[x][i][j] = raw[x][i][j] · (inv[x][i] · inv[x][j]) clamped to [−1, 1], 1 on the diagonal of
// a live row, and 0 in every row and column of a row that row_scales.wgsl left out (zero, or
// holding NaN/±Inf; its inverse norm is 0, inv_norms.wgsl), and past the last model.
//
// Workgroup: WG invocations (a pipeline constant). Loop bound: 4 (the four columns).
//
// Bindings:
//   0 params   uniform: models, samples (in this dispatch), gridX.
//   1 raw      storage read: samples × models × models f32 (sample_grams.wgsl's output).
//   2 inv      rgba32float texture: samples × m4 texels (inv_norms.wgsl's packed layout).
//   3 cosines  write-only rgba32float storage texture: samples × models × m4 texels, texel
//              (x·models + i)·m4 + q holding cos[x][i][4q … 4q + 3] (the packed layout).

override WG: u32 = 64u;

struct Params {
  models: u32,
  samples: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> raw: array<f32>;
@group(0) @binding(2) var inv: texture_2d<f32>;
@group(0) @binding(3) var cosines: texture_storage_2d<rgba32float, write>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let m = params.models;
  let m4 = (m + 3u) / 4u;
  let e = flatWorkgroup(wid, params.gridX) * WG + lane;
  if (e >= params.samples * m * m4) {
    return;
  }
  let q = e % m4;
  let xi = e / m4;
  let x = xi / m;
  let i = xi % m;
  let a = textureLoad(inv, texelAt(x * m4 + i / 4u), 0)[i % 4u];
  let b = textureLoad(inv, texelAt(x * m4 + q), 0);
  var c = vec4f(0.0);
  for (var k = 0u; k < 4u; k++) {
    let j = q * 4u + k;
    if (j < m) {
      // a · b first: the product is symmetric, so cos[x][i][j] and cos[x][j][i] are one f32.
      c[k] = clamp(raw[xi * m + j] * (a * b[k]), -1.0, 1.0);
      if (i == j && a > 0.0) {
        c[k] = 1.0;
      }
    }
  }
  textureStore(cosines, texelAt(e), c);
}
