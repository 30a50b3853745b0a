// Per-sample Gram matrices of scaled gradient rows: for every sample x of a batch and every
// pair of models (i, j), G_x[i][j] = Σ_d (g_i(x)_d · s_i)(g_j(x)_d · s_j), with s_i = 1/max|g_i|
// from row_scales.wgsl, applied to each loaded vec4 before it is multiplied (so no square of a
// 1e-20 gradient underflows f32). The unit-vector Gram follows as G[i][j] / √(G[i][i] G[j][j]).
//
// Why a texture: on software adapters (lavapipe here) every storage-buffer load, uniform or not,
// costs 30–40 ns per invocation and vec4 (a per-lane loop), a texel fetch about 4 ns, and a
// multiply-add a fraction of a nanosecond. So the rows are read as rgba32float texels and each
// fetched vec4 feeds T multiply-adds from registers.
//
// Tiling: one invocation per (tile pair, sample), samples fastest (the lanes of a workgroup
// share a tile pair). A tile pair is an A tile and a B tile of T models each (A ≤ B, so only
// tile pairs that touch the upper triangle run); each step fetches the T rows of A and the T of
// B at one vec4 column and feeds T·T independent dot-product chains. Diagonal tile pairs (A = B)
// run a variant of the same source that fetches the T rows once and feeds only the T(T+1)/2
// chains with i ≤ j (at M ≤ T, the only tile pair: half the fetches and about half the
// multiply-adds). Rows past the last model
// are clamped to it (in bounds) and never stored. A row left out (scale 0) may hold NaN or ±Inf,
// which a zero scale does not cancel, so its chains store 0. TypeScript writes T and the unrolled body
// (DECLARE, LOAD, FMA, STORE: one line per chain, load or store) from one function; WG and
// TEX_SHIFT are pipeline constants.
//
// Texture layout (gradients, model-major): texel t = (i·samples + x)·cols4 + k of model i,
// sample x, vec4 column k sits at (t mod 2^TEX_SHIFT, t >> TEX_SHIFT).
//
// Long rows: one dispatch covers the columns k0 … k0 + kn − 1 and writes (k0 = 0) or adds (later
// ranges) its partial sums to `grams`, so a row longer than the loop cap is split into several dispatches
// of one pass. Each (i ≤ j) entry has exactly one owner (the chain of i's A tile and j's B tile,
// i ≤ j inside a diagonal tile), which adds to G[i][j] and G[j][i].
//
// Loop bound per invocation: kn + 1 (the dispatcher asserts it under the cap).
//
// Bindings:
//   0 params    uniform: models, cols4 (vec4 columns of a whole row), samples (in this
//               dispatch), tilePairs, k0, kn, gridX.
//   1 grads     texture_2d<f32>: the gradients (see the layout above).
//   2 scales    storage read: one f32 per row (model-major), 0 for rows left out.
//   3 tiles     storage read: one u32 per tile pair, (tileA << 16) | tileB.
//   4 grams     storage read_write: samples × models × models f32, sample-major.

override WG: u32 = 8u;
const T: u32 = {{T}}u;

struct Params {
  models: u32,
  cols4: u32,
  samples: u32,
  tilePairs: u32,
  k0: u32,
  kn: u32,
  gridX: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var grads: texture_2d<f32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> tiles: array<u32>;
@group(0) @binding(4) var<storage, read_write> grams: array<f32>;

fn texel(t: u32) -> vec4f {
  return textureLoad(grads, texelAt(t), 0);
}

// The first column range writes, later ones add: a storage load costs as much as dozens of
// multiply-adds here, so the common single-range case reads nothing back.
fn store(x: u32, i: u32, j: u32, v: f32) {
  if (i <= j && j < params.models) {
    let mm = params.models;
    var w = v;
    if (params.k0 > 0u) {
      w += grams[(x * mm + i) * mm + j];
    }
    grams[(x * mm + i) * mm + j] = w;
    if (i != j) {
      grams[(x * mm + j) * mm + i] = w;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let w = flatWorkgroup(wid, params.gridX) * WG + lane;
  if (w >= params.tilePairs * params.samples) {
    return;
  }
  let x = w % params.samples;
  let packed = tiles[w / params.samples];
  let i0 = (packed >> 16u) * T;
  let j0 = (packed & 0xffffu) * T;
  let last = params.models - 1u;
  let n = params.samples;
  let cols4 = params.cols4;
{{DECLARE}}
  for (var k = 0u; k < params.kn; k++) {
{{LOAD}}
{{FMA}}
  }
{{STORE}}
}
