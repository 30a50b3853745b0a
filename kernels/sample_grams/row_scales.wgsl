// Row scales: the first half of normalising a gradient row with a scaled norm. LANES lanes
// per row (a power of two dividing WG): LANES = 1 gives each invocation a whole row (WG rows
// per workgroup), which the dispatcher picks whenever one row's walk stays under the loop cap;
// LANES = WG gives a workgroup to a row for longer rows. The row's lanes walk its vec4
// columns round-robin, fetched as texels (see sample_grams.wgsl for the layout and why a
// texture), keep the largest magnitude and whether any value is NaN/±Inf, and combine them in a
// tree over their LANES lanes. (On lavapipe a workgroup per row of D = 784 cost about as much as
// a Gram dispatch at M = 16: the per-workgroup overhead of 16 × 1,024 workgroups.)
//
// Output per row: scale = 1 / max|g| (0 for a zero row, or one whose largest magnitude is below
// f32's smallest normal 2⁻¹²⁶, which software adapters flush to zero anyway, and for a row that
// holds NaN/±Inf), and status 0 (a live row), 1 (zero), 2 (holds NaN or ±Inf; left out like a
// zero row). The Gram kernel multiplies every fetched value by its row's scale, so no square
// underflows f32 (gradients of a probability can be 1e-20).
//
// Workgroup: WG invocations, LANES per row (pipeline constants). Loop bound per invocation:
// ceil(cols4 / LANES) + 1 + log2(LANES) + 1 (the dispatcher asserts it under the cap). Rows past
// the last are clamped to it (every lane reaches the barriers) and not stored.
//
// Bindings:
//   0 params  uniform: rows (models × samples in this dispatch), cols4 (vec4 columns per row,
//             zero-padded), gridX.
//   1 grads   texture_2d<f32>: models × samples × cols4 texels, model-major, texel t at
//             (t mod 2^TEX_SHIFT, t >> TEX_SHIFT).
//   2 scales  storage read_write: one f32 per row.
//   3 status  storage read_write: one u32 per row.

override WG: u32 = 8u;
override LANES: u32 = 8u;

struct Params {
  rows: u32,
  cols4: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var grads: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> scales: array<f32>;
@group(0) @binding(3) var<storage, read_write> status: array<u32>;

// Per lane: (largest magnitude, 1 when a value is NaN/±Inf), combined over each row's lanes.
var<workgroup> rowParts: array<vec2f, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let sub = lane % LANES;
  let row = flatWorkgroup(wid, params.gridX) * (WG / LANES) + lane / LANES;
  let base = min(row, params.rows - 1u) * params.cols4;
  var big = 0.0;
  var bad = 0.0;
  for (var k = sub; k < params.cols4; k += LANES) {
    let v = textureLoad(grads, texelAt(base + k), 0);
    let a = abs(v);
    big = max(big, max(max(a.x, a.y), max(a.z, a.w)));
    if (nonFinite(v.x) || nonFinite(v.y) || nonFinite(v.z) || nonFinite(v.w)) {
      bad = 1.0;
    }
  }
  rowParts[lane] = vec2f(big, bad);
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s >>= 1u) {
    if (sub < s) {
      rowParts[lane] = max(rowParts[lane], rowParts[lane + s]);
    }
    workgroupBarrier();
  }
  if (sub == 0u && row < params.rows) {
    let rowMax = rowParts[lane].x;
    var state = 0u;
    var scale = 0.0;
    if (rowParts[lane].y > 0.0) {
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
