// Cosines from scaled Grams: the first of the group reductions. One invocation per entry
// (x, i, j) of a batch's Grams: cos[x][i][j] = raw[x][i][j] / √(raw[x][i][i] · raw[x][j][j])
// clamped to [−1, 1], 1 on the diagonal of a live row, and 0 in every row and column of a row
// that row_scales.wgsl left out (zero, or holding NaN/±Inf). The scaled rows' largest value is
// 1, so a live row's raw[i][i] is at least 1 and no product under- or overflows.
//
// Workgroup: WG invocations (a pipeline constant). No loop (loop bound 0).
//
// Bindings:
//   0 params  uniform: models, samples (in this dispatch), gridX.
//   1 raw     storage read: samples × models × models f32 (sample_grams.wgsl's output).
//   2 status  storage read: one u32 per row, model-major [models][samples] (0 = live).
//   3 cos     storage read_write: samples × models × models f32.

override WG: u32 = 64u;

struct Params {
  models: u32,
  samples: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> raw: array<f32>;
@group(0) @binding(2) var<storage, read> status: array<u32>;
@group(0) @binding(3) var<storage, read_write> cosines: array<f32>;

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
  let di = raw[x * mm + i * m + i];
  let dj = raw[x * mm + j * m + j];
  var c = 0.0;
  let live = status[i * params.samples + x] == 0u && status[j * params.samples + x] == 0u;
  if (live && di > 0.0 && dj > 0.0) {
    if (i == j) {
      c = 1.0;
    } else {
      c = clamp(raw[e] / sqrt(di * dj), -1.0, 1.0);
    }
  }
  cosines[e] = c;
}
