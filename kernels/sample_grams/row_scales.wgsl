// Row scales: the first half of normalising a gradient row with a scaled norm. One workgroup
// per row (a model's gradient at one sample); its WG lanes walk the row's vec4 columns
// round-robin (consecutive lanes read consecutive addresses), keep the largest magnitude and
// whether any value is NaN/±Inf, and combine them with the prelude's tree reduction; then they
// write the scaled row g/max|g| into `scaled`, models interleaved: sample x's column k of model
// i at (x·cols4 + k)·mpad + i, so that the Gram kernel's lanes, which own consecutive models,
// read consecutive vec4 (rows of padding models and rows left out stay zero).
//
// Output per row: scale = 1 / max|g| (0 for a zero row, or one whose largest magnitude is below
// f32's smallest normal 2⁻¹²⁶, which software adapters flush to zero anyway), and status 0 (a
// live row), 1 (zero), 2 (holds NaN or ±Inf; left out like a zero row). The Gram kernel
// multiplies every loaded value by its row's scale, so no square underflows f32 (gradients of
// a probability can be 1e-20).
//
// Workgroup: WG = TREE_WG invocations (pipeline constants). Loop bound per invocation:
// 2·ceil(cols4 / WG) + 2·log2(WG) (the dispatcher asserts it under the cap).
//
// Bindings:
//   0 params  uniform: rows (models × samples in this dispatch), samples, cols4 (vec4 columns
//             per row, zero-padded), mpad (models padded to whole tiles), gridX.
//   1 grads   storage read: models × samples × cols4 vec4<f32>, model-major.
//   2 scaled  storage read_write: samples × cols4 × mpad vec4<f32> (zero-initialised).
//   3 status  storage read_write: one u32 per row.

override WG: u32 = 64u;

struct Params {
  rows: u32,
  samples: u32,
  cols4: u32,
  mpad: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> scaled: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> status: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let row = flatWorkgroup(wid, params.gridX);
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols4;
  var big = 0.0;
  var bad = 0.0;
  for (var k = lane; k < params.cols4; k += WG) {
    let v = grads[base + k];
    let a = abs(v);
    big = max(big, max(max(a.x, a.y), max(a.z, a.w)));
    if (nonFinite(v.x) || nonFinite(v.y) || nonFinite(v.z) || nonFinite(v.w)) {
      bad = 1.0;
    }
  }
  let rowMax = treeMax(lane, big);
  let rowBad = treeMax(lane, bad);
  var state = 0u;
  if (rowBad > 0.0) {
    state = 2u;
  } else if (rowMax < 1.1754944e-38) {
    state = 1u;
  }
  if (lane == 0u) {
    status[row] = state;
  }
  if (state != 0u) {
    return;
  }
  let scale = 1.0 / rowMax;
  let model = row / params.samples;
  let x = row % params.samples;
  let out = x * params.cols4 * params.mpad + model;
  for (var k = lane; k < params.cols4; k += WG) {
    scaled[out + k * params.mpad] = grads[base + k] * scale;
  }
}
