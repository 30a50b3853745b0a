// Pairwise similarity: the Gram matrix G = U Uᵀ of M unit-gradient rows, summed over samples.
//
// The input is one chunk of a batch, laid out model-major: row m holds model m's unit vectors
// for the chunk's samples back to back (samples × dim values), so the sum over samples of
// cos(u_i(x), u_j(x)) is the dot product of rows i and j over all `cols` columns. Zero
// gradients are stored as zero vectors and so add nothing.
//
// Tiling: each workgroup owns one TILE×TILE output tile (block row bi, block column bj, with
// bi ≤ bj only: the matrix is symmetric) and one span of `span` columns. It walks its span in
// slices of KS columns, staging a KS×TILE slice of rows bi and of rows bj in workgroup memory
// (tileA, tileB, stored column-major so each thread reads one row value per column), then each
// invocation accumulates a 2×2 block of the tile: rows (y, y+WG) × columns (x, x+WG).
// Workgroup size: WG×WG invocations; TILE = 2·WG and TILE·KS = 2·WG² (each invocation loads
// two values of each slice). TypeScript writes WG, TILE and KS into this source.
//
// Loop bound per invocation (Mesa's software adapters stop an invocation after 65,535 loop
// iterations): ceil(span/KS)·(KS+1) + 1; the dispatcher picks `span` to keep it under its cap.
//
// Output: one partial tile per (tile pair, span), summed in f64 on the CPU.
//
// Bindings:
//   0 params     uniform: models (M), cols (columns per row in this chunk), span (columns per
//                workgroup), tilePairs (tile pairs in this dispatch), spans (spans per row),
//                gridX (workgroups per row of the 2-D dispatch grid).
//   1 units      storage read: M × cols f32, row-major.
//   2 pairIndex  storage read: one u32 per tile pair, (bi << 16) | bj.
//   3 partial    storage read_write: spans × tilePairs × TILE × TILE f32; tile element (r, c)
//                at r·TILE + c is the dot of rows bi·TILE + r and bj·TILE + c over the span.

const WG: u32 = {{WG}}u;
const TILE: u32 = {{TILE}}u;
const KS: u32 = {{KS}}u;

struct Params {
  models: u32,
  cols: u32,
  span: u32,
  tilePairs: u32,
  spans: u32,
  gridX: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> units: array<f32>;
@group(0) @binding(2) var<storage, read> pairIndex: array<u32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

var<workgroup> tileA: array<f32, TILE * KS>;
var<workgroup> tileB: array<f32, TILE * KS>;

fn load(row0: u32, e: u32, k0: u32, k1: u32) -> f32 {
  let r = row0 + e / KS;
  let k = k0 + e % KS;
  if (r < params.models && k < k1) {
    return units[r * params.cols + k];
  }
  return 0.0;
}

@compute @workgroup_size(WG, WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let w = wid.x + wid.y * params.gridX;
  if (w >= params.tilePairs * params.spans) {
    return;
  }
  let tp = w % params.tilePairs;
  let s = w / params.tilePairs;
  let packed = pairIndex[tp];
  let rowA0 = (packed >> 16u) * TILE;
  let rowB0 = (packed & 0xffffu) * TILE;
  let kBegin = s * params.span;
  let kEnd = min(kBegin + params.span, params.cols);
  let t = lid.y * WG + lid.x;
  let e0 = t;
  let e1 = t + WG * WG;
  // where each loaded value goes: column-major slice, index kk·TILE + r
  let d0 = (e0 % KS) * TILE + e0 / KS;
  let d1 = (e1 % KS) * TILE + e1 / KS;

  var acc00 = 0.0;
  var acc01 = 0.0;
  var acc10 = 0.0;
  var acc11 = 0.0;
  for (var k0 = kBegin; k0 < kEnd; k0 += KS) {
    tileA[d0] = load(rowA0, e0, k0, kEnd);
    tileA[d1] = load(rowA0, e1, k0, kEnd);
    tileB[d0] = load(rowB0, e0, k0, kEnd);
    tileB[d1] = load(rowB0, e1, k0, kEnd);
    workgroupBarrier();
    for (var kk = 0u; kk < KS; kk++) {
      let base = kk * TILE;
      let a0 = tileA[base + lid.y];
      let a1 = tileA[base + lid.y + WG];
      let b0 = tileB[base + lid.x];
      let b1 = tileB[base + lid.x + WG];
      acc00 = fma(a0, b0, acc00);
      acc01 = fma(a0, b1, acc01);
      acc10 = fma(a1, b0, acc10);
      acc11 = fma(a1, b1, acc11);
    }
    workgroupBarrier();
  }
  let out = (s * params.tilePairs + tp) * TILE * TILE;
  partial[out + lid.y * TILE + lid.x] = acc00;
  partial[out + lid.y * TILE + lid.x + WG] = acc01;
  partial[out + (lid.y + WG) * TILE + lid.x] = acc10;
  partial[out + (lid.y + WG) * TILE + lid.x + WG] = acc11;
}
