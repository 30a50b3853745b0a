// Per-sample Gram matrices of scaled gradient rows: for every sample x of a batch and every
// pair of models (i, j), G_x[i][j] = Σ_d (g_i(x)_d · s_i)(g_j(x)_d · s_j), with s_i = 1/max|g_i|
// applied by row_scales.wgsl. The unit-vector Gram follows as G[i][j] / √(G[i][i] G[j][j]).
//
// Tiling (for software adapters, where a storage load whose address differs between lanes is
// gathered lane by lane and costs dozens of multiply-adds, while a load every lane shares is
// one): one workgroup per (sample, tile pair). A tile pair is an A tile of WG·RA models and a
// B block of RB models; lane l owns the A models tileA·WG·RA + l + r·WG (r < RA), so at each
// step the lanes' loads of one r are WG consecutive vec4 (the scaled rows are stored models
// interleaved), and every lane reads the same RB vec4 of B. Each step feeds RA·RB independent
// dot-product chains from RA lane-varying loads and RB uniform ones. Only tile pairs that touch
// the upper triangle (i ≤ j) run; both G[i][j] and G[j][i] are written. Padding models read
// zeros and are never stored, so the loop has no bounds test. TypeScript writes RA, RB and the
// unrolled body (DECLARE, LOAD, FMA, STORE: one line per chain, load or store) from one
// function; WG is a pipeline constant.
//
// Long rows: one dispatch covers the columns k0 … k0 + kn − 1 and adds its partial sums to
// `grams` (zero-initialised), so a row longer than the loop cap is split into several dispatches
// of one pass. Each (i ≤ j) entry has exactly one owner (the lane holding i in the tile pair of
// i's A tile and j's B block), which adds to G[i][j] and G[j][i]; no two invocations of a
// dispatch touch one entry.
//
// Loop bound per invocation: kn + 1 (the dispatcher asserts it under the cap).
//
// Bindings:
//   0 params    uniform: models, mpad (models padded to whole tiles), cols4 (vec4 columns of a
//               whole row), samples (in this dispatch), tilePairs, k0, kn, gridX.
//   1 scaled    storage read: samples × cols4 × mpad vec4<f32> (see row_scales.wgsl).
//   2 tiles     storage read: one u32 per tile pair, (tileA << 16) | blockB.
//   3 grams     storage read_write: samples × models × models f32, sample-major.

override WG: u32 = 8u;
const RA: u32 = {{RA}}u;
const RB: u32 = {{RB}}u;

struct Params {
  models: u32,
  mpad: u32,
  cols4: u32,
  samples: u32,
  tilePairs: u32,
  k0: u32,
  kn: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scaled: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> tiles: array<u32>;
@group(0) @binding(3) var<storage, read_write> grams: array<f32>;

fn store(x: u32, i: u32, j: u32, v: f32) {
  if (i <= j && j < params.models) {
    let mm = params.models;
    grams[(x * mm + i) * mm + j] += v;
    if (i != j) {
      grams[(x * mm + j) * mm + i] += v;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let w = flatWorkgroup(wid, params.gridX);
  if (w >= params.tilePairs * params.samples) {
    return;
  }
  let x = w / params.tilePairs;
  let packed = tiles[w % params.tilePairs];
  let i0 = (packed >> 16u) * WG * RA + lane;
  let j0 = (packed & 0xffffu) * RB;
  let mpad = params.mpad;
  var o = (x * params.cols4 + params.k0) * mpad;
{{DECLARE}}
  for (var k = 0u; k < params.kn; k++) {
{{LOAD}}
{{FMA}}
    o += mpad;
  }
{{STORE}}
}
