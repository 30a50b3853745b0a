// Row scales: the first half of normalising a gradient row with a scaled norm. One workgroup
// per row (a model's gradient at one sample); its WG lanes walk the row's vec4 columns
// round-robin, fetched as texels (see sample_grams.wgsl for the layout and why a texture), keep
// the largest magnitude and whether any value is NaN/±Inf, and combine them with the prelude's
// tree reduction.
//
// Output per row: scale = 1 / max|g| (0 for a zero row, or one whose largest magnitude is below
// f32's smallest normal 2⁻¹²⁶, which software adapters flush to zero anyway, and for a row that
// holds NaN/±Inf), and status 0 (a live row), 1 (zero), 2 (holds NaN or ±Inf; left out like a
// zero row). The Gram kernel multiplies every fetched value by its row's scale, so no square
// underflows f32 (gradients of a probability can be 1e-20).
//
// Workgroup: WG = TREE_WG invocations (pipeline constants). Loop bound per invocation:
// ceil(cols4 / WG) + 1 + log2(WG) + 1 (the dispatcher asserts it under the cap).
//
// Bindings:
//   0 params  uniform: rows (models × samples in this dispatch), cols4 (vec4 columns per row,
//             zero-padded), gridX.
//   1 grads   texture_2d<f32>: models × samples × cols4 texels, model-major, texel t at
//             (t mod 2^TEX_SHIFT, t >> TEX_SHIFT).
//   2 scales  storage read_write: one f32 per row.
//   3 status  storage read_write: one u32 per row.

override WG: u32 = 8u;

struct Params {
  rows: u32,
  cols4: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var grads: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> scales: array<f32>;
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
    let v = textureLoad(grads, texelAt(base + k), 0);
    let a = abs(v);
    big = max(big, max(max(a.x, a.y), max(a.z, a.w)));
    if (nonFinite(v.x) || nonFinite(v.y) || nonFinite(v.z) || nonFinite(v.w)) {
      bad = 1.0;
    }
  }
  let rowMax = treeMax(lane, big);
  let rowBad = treeMax(lane, bad);
  if (lane == 0u) {
    var state = 0u;
    var scale = 0.0;
    if (rowBad > 0.0) {
      state = 2u;
    } else if (rowMax < 1.1754944e-38) {
      state = 1u;
    } else {
      scale = 1.0 / rowMax;
    }
    status[row] = state;
    scales[row] = scale;
  }
}
