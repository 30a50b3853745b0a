// Inverse norms of the scaled rows: the first of the group reductions. One invocation per
// (sample x, models 4q … 4q + 3): inv[x][i] = 1/√raw[x][i][i] for a live row (status 0), else 0
// (and 0 past the last model), so the later programs fetch one sample-major M-vector where they
// would otherwise gather the Grams' diagonal and the model-major row flags lane by lane (slow on
// software adapters). The scaled rows' largest value is 1, so a live row's raw[i][i] is at
// least 1.
//
// Packed layout (shared with cosines.wgsl, block_sums.wgsl, set_sums.wgsl): four consecutive
// models per rgba32float texel, m4 = ceil(models / 4) texels per row, texel t at the prelude's
// texelAt(t) (texel fetches are far cheaper than storage loads on software adapters).
//
// Workgroup: WG invocations (a pipeline constant). No loop (loop bound 0).
//
// Bindings:
//   0 params  uniform: models, samples (in this dispatch), gridX.
//   1 raw     storage read: samples × models × models f32 (sample_grams.wgsl's output).
//   2 status  storage read: one u32 per row, model-major [models][samples] (0 = live).
//   3 inv     write-only rgba32float storage texture: samples × m4 texels (packed layout).

override WG: u32 = 64u;

struct Params {
  models: u32,
  samples: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> raw: array<f32>;
@group(0) @binding(2) var<storage, read> status: array<u32>;
@group(0) @binding(3) var inv: texture_storage_2d<rgba32float, write>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let m = params.models;
  let m4 = (m + 3u) / 4u;
  let e = flatWorkgroup(wid, params.gridX) * WG + lane;
  if (e >= params.samples * m4) {
    return;
  }
  let x = e / m4;
  var v = vec4f(0.0);
  for (var c = 0u; c < 4u; c++) {
    let i = (e % m4) * 4u + c;
    if (i < m) {
      let d = raw[(x * m + i) * m + i];
      if (status[i * params.samples + x] == 0u && d > 0.0) {
        v[c] = 1.0 / sqrt(d);
      }
    }
  }
  textureStore(inv, texelAt(e), v);
}
