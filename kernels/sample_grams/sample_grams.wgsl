// Per-sample Gram matrices of scaled gradient rows: for every sample x of a batch and every
// pair of models (i, j), G_x[i][j] = Σ_d (g_i(x)_d · s_i)(g_j(x)_d · s_j), with s the row
// scales of row_scales.wgsl. The unit-vector Gram follows as G[i][j] / √(G[i][i] G[j][j]).
//
// Tiling (for software adapters, where a storage load whose address differs between lanes is
// fetched lane by lane and costs dozens of multiply-adds, while a load every lane shares is
// one): one workgroup per (sample, tile pair). A tile pair is an A tile of WG·RA model rows and
// a B block of RB model rows; lane l of the workgroup owns A rows tileA·WG·RA + l·RA + r
// (r < RA), and every lane reads the same RB rows of B, so each step costs RA lane-varying
// vec4 loads and RB uniform ones and feeds RA·RB independent vec4 multiply-add chains (16 for
// RA = 2, RB = 8: what lavapipe needs to reach its arithmetic ceiling). Only tile pairs that
// touch the upper triangle (i ≤ j) run; both G[i][j] and G[j][i] are written. Rows beyond the
// model count are clamped to the last row on load and never stored, so the loop has no bounds
// test. TypeScript writes RA, RB and the unrolled body (DECLARE, LOAD, FMA, STORE: one line
// per row, load, chain or store) from one function; WG is a pipeline constant.
//
// Input rows: model i of sample x (x counted within the bound batch) is row i·count + x, the
// model-major layout `[models][count][cols4·4]`, zero-padded to whole vec4.
//
// Loop bound per invocation: cols4 + 1 (the dispatcher asserts it under the cap).
//
// Bindings:
//   0 params    uniform: models, count (samples in the bound batch), cols4, sample0 (first
//               sample of this dispatch), samples (in this dispatch), tilePairs, gridX.
//   1 grads     storage read: models × count × cols4 vec4<f32>.
//   2 scales    storage read: one f32 per row (0 for rows left out).
//   3 tiles     storage read: one u32 per tile pair, (tileA << 16) | blockB.
//   4 grams     storage read_write: samples × models × models f32, sample-major.

override WG: u32 = 8u;
const RA: u32 = {{RA}}u;
const RB: u32 = {{RB}}u;

struct Params {
  models: u32,
  count: u32,
  cols4: u32,
  sample0: u32,
  samples: u32,
  tilePairs: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> tiles: array<u32>;
@group(0) @binding(4) var<storage, read_write> grams: array<f32>;

// The first vec4 of model `m`'s row at sample `x`, with m clamped to a real model.
fn rowBase(m: u32, x: u32) -> u32 {
  return (min(m, params.models - 1u) * params.count + x) * params.cols4;
}

fn rowScale(m: u32, x: u32) -> f32 {
  return scales[min(m, params.models - 1u) * params.count + x];
}

fn store(xl: u32, i: u32, j: u32, v: f32) {
  if (i < params.models && j < params.models) {
    let mm = params.models;
    grams[(xl * mm + i) * mm + j] = v;
    grams[(xl * mm + j) * mm + i] = v;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let w = flatWorkgroup(wid, params.gridX);
  if (w >= params.tilePairs * params.samples) {
    return;
  }
  let xl = w / params.tilePairs;
  let x = params.sample0 + xl;
  let packed = tiles[w % params.tilePairs];
  let i0 = (packed >> 16u) * WG * RA + lane * RA;
  let j0 = (packed & 0xffffu) * RB;
{{DECLARE}}
  for (var k = 0u; k < params.cols4; k++) {
{{LOAD}}
{{FMA}}
  }
{{STORE}}
}
