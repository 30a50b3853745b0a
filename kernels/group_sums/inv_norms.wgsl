// Inverse norms of the scaled rows: the first of the group reductions. One invocation per
// (sample x, model i): inv[x][i] = 1/√raw[x][i][i] for a live row (status 0), else 0, so the
// later programs read one sample-major M-vector where they would otherwise gather the Grams'
// diagonal and the model-major row flags lane by lane (slow on software adapters). The scaled
// rows' largest value is 1, so a live row's raw[i][i] is at least 1.
//
// Workgroup: WG invocations (a pipeline constant). No loop (loop bound 0).
//
// Bindings:
//   0 params  uniform: models, samples (in this dispatch), gridX.
//   1 raw     storage read: samples × models × models f32 (sample_grams.wgsl's output).
//   2 status  storage read: one u32 per row, model-major [models][samples] (0 = live).
//   3 inv     write-only storage texture: samples × models f32, as a flat r32float texture (prelude's texelAt; texel fetches are
//             far cheaper than storage loads on software adapters).

override WG: u32 = 64u;

struct Params {
  models: u32,
  samples: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> raw: array<f32>;
@group(0) @binding(2) var<storage, read> status: array<u32>;
@group(0) @binding(3) var inv: texture_storage_2d<r32float, write>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let m = params.models;
  let e = flatWorkgroup(wid, params.gridX) * WG + lane;
  if (e >= params.samples * m) {
    return;
  }
  let x = e / m;
  let i = e % m;
  let d = raw[(x * m + i) * m + i];
  var v = 0.0;
  if (status[i * params.samples + x] == 0u && d > 0.0) {
    v = 1.0 / sqrt(d);
  }
  textureStore(inv, texelAt(e), vec4f(v, 0.0, 0.0, 0.0));
}
