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
// (tileA, tileB: column-major with a row stride of TILE+1 to spread banks), then each
// invocation accumulates a 4×4 block of the tile: rows y + WG·a × columns x + WG·b, a, b < 4.
// Workgroup size: WG×WG invocations; TILE = 4·WG and TILE·KS = 4·WG² (each invocation loads
// four values of each slice, coalesced along the columns). TypeScript writes WG, TILE and KS.
//
// Loop bound per invocation (Mesa's software adapters stop an invocation after 65,535 loop
// iterations): ceil(span/KS)·(KS+1) + 1; the dispatcher picks `span` to keep it under its cap.
//
// Output: one partial tile per (tile pair, span); span_sums.wgsl adds the spans of each segment
// on the GPU, and the CPU adds the results across chunks and batches in f64.
//
// Bindings:
//   0 params     uniform: models (M), cols (columns per row in this chunk), span (columns per
//                workgroup), tilePairs (tile pairs in this dispatch), spans (spans per row),
//                gridX (workgroups per row of the 2-D dispatch grid), segment (columns per
//                segment: all of them, or one sample's), spansPerSegment.
//   1 units      storage read: M × cols f32, row-major.
//   2 pairIndex  storage read: one u32 per tile pair, (bi << 16) | bj.
//   3 partial    storage read_write: spans × tilePairs × TILE × TILE f32; tile element (r, c)
//                at r·TILE + c is the dot of rows bi·TILE + r and bj·TILE + c over the span.

const WG: u32 = {{WG}}u;
const TILE: u32 = {{TILE}}u;
const KS: u32 = {{KS}}u;
const STRIDE: u32 = TILE + 1u;

struct Params {
  models: u32,
  cols: u32,
  span: u32,
  tilePairs: u32,
  spans: u32,
  gridX: u32,
  segment: u32,
  spansPerSegment: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> units: array<f32>;
@group(0) @binding(2) var<storage, read> pairIndex: array<u32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

var<workgroup> tileA: array<f32, STRIDE * KS>;
var<workgroup> tileB: array<f32, STRIDE * KS>;

fn load(row0: u32, e: u32, k0: u32, k1: u32) -> f32 {
  let r = row0 + e / KS;
  let k = k0 + e % KS;
  if (r < params.models && k < k1) {
    return units[r * params.cols + k];
  }
  return 0.0;
}

fn slot(e: u32) -> u32 {
  return (e % KS) * STRIDE + e / KS;
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
  // Spans never cross a segment boundary: with segment = one sample's columns, each partial
  // tile holds per-sample dot products (the cosines behind the per-pair histograms).
  let segment = s / params.spansPerSegment;
  let segmentEnd = min((segment + 1u) * params.segment, params.cols);
  let kBegin = segment * params.segment + (s % params.spansPerSegment) * params.span;
  let kEnd = min(kBegin + params.span, segmentEnd);
  let t = lid.y * WG + lid.x;
  let n = WG * WG;
  let e0 = t;
  let e1 = t + n;
  let e2 = t + 2u * n;
  let e3 = t + 3u * n;

  var acc0 = vec4<f32>(0.0); // row y, columns x + WG·(0..3)
  var acc1 = vec4<f32>(0.0); // row y + WG
  var acc2 = vec4<f32>(0.0); // row y + 2·WG
  var acc3 = vec4<f32>(0.0); // row y + 3·WG
  for (var k0 = kBegin; k0 < kEnd; k0 += KS) {
    tileA[slot(e0)] = load(rowA0, e0, k0, kEnd);
    tileA[slot(e1)] = load(rowA0, e1, k0, kEnd);
    tileA[slot(e2)] = load(rowA0, e2, k0, kEnd);
    tileA[slot(e3)] = load(rowA0, e3, k0, kEnd);
    tileB[slot(e0)] = load(rowB0, e0, k0, kEnd);
    tileB[slot(e1)] = load(rowB0, e1, k0, kEnd);
    tileB[slot(e2)] = load(rowB0, e2, k0, kEnd);
    tileB[slot(e3)] = load(rowB0, e3, k0, kEnd);
    workgroupBarrier();
    for (var kk = 0u; kk < KS; kk++) {
      let base = kk * STRIDE;
      let b = vec4<f32>(
        tileB[base + lid.x],
        tileB[base + lid.x + WG],
        tileB[base + lid.x + 2u * WG],
        tileB[base + lid.x + 3u * WG],
      );
      acc0 = fma(vec4<f32>(tileA[base + lid.y]), b, acc0);
      acc1 = fma(vec4<f32>(tileA[base + lid.y + WG]), b, acc1);
      acc2 = fma(vec4<f32>(tileA[base + lid.y + 2u * WG]), b, acc2);
      acc3 = fma(vec4<f32>(tileA[base + lid.y + 3u * WG]), b, acc3);
    }
    workgroupBarrier();
  }
  let out = (s * params.tilePairs + tp) * TILE * TILE;
  let row0 = out + (lid.y) * TILE + lid.x;
  partial[row0] = acc0.x;
  partial[row0 + WG] = acc0.y;
  partial[row0 + 2u * WG] = acc0.z;
  partial[row0 + 3u * WG] = acc0.w;
  let row1 = out + (lid.y + WG) * TILE + lid.x;
  partial[row1] = acc1.x;
  partial[row1 + WG] = acc1.y;
  partial[row1 + 2u * WG] = acc1.z;
  partial[row1 + 3u * WG] = acc1.w;
  let row2 = out + (lid.y + 2u * WG) * TILE + lid.x;
  partial[row2] = acc2.x;
  partial[row2 + WG] = acc2.y;
  partial[row2 + 2u * WG] = acc2.z;
  partial[row2 + 3u * WG] = acc2.w;
  let row3 = out + (lid.y + 3u * WG) * TILE + lid.x;
  partial[row3] = acc3.x;
  partial[row3 + WG] = acc3.y;
  partial[row3 + 2u * WG] = acc3.z;
  partial[row3 + 3u * WG] = acc3.w;
}
