// Pairwise similarity, register-blocked variant (no workgroup memory, no barriers): the Gram
// matrix G = U Uᵀ of M unit-gradient rows, summed over samples, as in pairwise_similarity.wgsl.
// Software adapters (llvmpipe, lavapipe) run barriers as coroutine switches, which dominate the
// tiled kernel there; this variant reads rows straight from storage (the CPU's caches do the
// staging) and is the default on software adapters.
//
// The input is one chunk of a batch, model-major: row m holds model m's unit vectors for the
// chunk's samples back to back, padded with zeros to cols4·4 values, read as vec4.
//
// Tiling: each workgroup owns one TILE×TILE output tile (block row bi ≤ block column bj) and one
// span of `span4` vec4 columns. Workgroup size WG×WG; each invocation accumulates an R×R block
// (R = TILE/WG), rows rowA0 + y + WG·a and columns rowB0 + x + WG·b for a, b < R, so
// neighbouring invocations read neighbouring rows. Rows past M are clamped to M−1 (their
// results are discarded on the CPU). TypeScript writes WG, TILE and R (R = 4 is unrolled below).
//
// Loop bound per invocation (Mesa's software adapters stop an invocation after 65,535 loop
// iterations): span4 + 1; the dispatcher keeps it under its cap.
//
// Output: one partial tile per (tile pair, span); span_sums.wgsl adds the spans of each segment
// on the GPU, and the CPU adds the results across chunks and batches in f64.
//
// Bindings:
//   0 params    uniform: models (M), cols4 (vec4 columns per row), span4 (vec4 columns per
//               workgroup), tilePairs (in this dispatch), spans (per row), gridX, segment
//               (vec4 columns per segment: all, or one sample's), spansPerSegment.
//   1 units     storage read: M × cols4 vec4<f32>, row-major.
//   2 pairIndex storage read: one u32 per tile pair, (bi << 16) | bj.
//   3 partial   storage read_write: spans × tilePairs × TILE × TILE f32; element (r, c) at
//               r·TILE + c is the dot of rows bi·TILE + r and bj·TILE + c over the span.

const WG: u32 = {{WG}}u;
const TILE: u32 = {{TILE}}u;
const R: u32 = {{R}}u;

struct Params {
  models: u32,
  cols4: u32,
  span4: u32,
  tilePairs: u32,
  spans: u32,
  gridX: u32,
  segment: u32,
  spansPerSegment: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> units: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> pairIndex: array<u32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

fn rowBase(r: u32) -> u32 {
  return min(r, params.models - 1u) * params.cols4;
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
  let rowA0 = (packed >> 16u) * TILE + lid.y;
  let rowB0 = (packed & 0xffffu) * TILE + lid.x;
  let a0 = rowBase(rowA0);
  let a1 = rowBase(rowA0 + WG);
  let a2 = rowBase(rowA0 + 2u * WG);
  let a3 = rowBase(rowA0 + 3u * WG);
  let b0 = rowBase(rowB0);
  let b1 = rowBase(rowB0 + WG);
  let b2 = rowBase(rowB0 + 2u * WG);
  let b3 = rowBase(rowB0 + 3u * WG);
  // Spans never cross a segment boundary: with segment = one sample's columns, each partial
  // tile holds per-sample dot products (the cosines behind the per-pair histograms).
  let segment = s / params.spansPerSegment;
  let segmentEnd = min((segment + 1u) * params.segment, params.cols4);
  let kBegin = segment * params.segment + (s % params.spansPerSegment) * params.span4;
  let kEnd = min(kBegin + params.span4, segmentEnd);

  var c00 = vec4<f32>(0.0);
  var c01 = vec4<f32>(0.0);
  var c02 = vec4<f32>(0.0);
  var c03 = vec4<f32>(0.0);
  var c10 = vec4<f32>(0.0);
  var c11 = vec4<f32>(0.0);
  var c12 = vec4<f32>(0.0);
  var c13 = vec4<f32>(0.0);
  var c20 = vec4<f32>(0.0);
  var c21 = vec4<f32>(0.0);
  var c22 = vec4<f32>(0.0);
  var c23 = vec4<f32>(0.0);
  var c30 = vec4<f32>(0.0);
  var c31 = vec4<f32>(0.0);
  var c32 = vec4<f32>(0.0);
  var c33 = vec4<f32>(0.0);
  for (var k = kBegin; k < kEnd; k++) {
    let x0 = units[a0 + k];
    let x1 = units[a1 + k];
    let x2 = units[a2 + k];
    let x3 = units[a3 + k];
    let y0 = units[b0 + k];
    let y1 = units[b1 + k];
    let y2 = units[b2 + k];
    let y3 = units[b3 + k];
    c00 = fma(x0, y0, c00);
    c01 = fma(x0, y1, c01);
    c02 = fma(x0, y2, c02);
    c03 = fma(x0, y3, c03);
    c10 = fma(x1, y0, c10);
    c11 = fma(x1, y1, c11);
    c12 = fma(x1, y2, c12);
    c13 = fma(x1, y3, c13);
    c20 = fma(x2, y0, c20);
    c21 = fma(x2, y1, c21);
    c22 = fma(x2, y2, c22);
    c23 = fma(x2, y3, c23);
    c30 = fma(x3, y0, c30);
    c31 = fma(x3, y1, c31);
    c32 = fma(x3, y2, c32);
    c33 = fma(x3, y3, c33);
  }
  let one = vec4<f32>(1.0);
  let out = (s * params.tilePairs + tp) * TILE * TILE + lid.y * TILE + lid.x;
  let rs = WG * TILE;
  partial[out] = dot(c00, one);
  partial[out + WG] = dot(c01, one);
  partial[out + 2u * WG] = dot(c02, one);
  partial[out + 3u * WG] = dot(c03, one);
  partial[out + rs] = dot(c10, one);
  partial[out + rs + WG] = dot(c11, one);
  partial[out + rs + 2u * WG] = dot(c12, one);
  partial[out + rs + 3u * WG] = dot(c13, one);
  partial[out + 2u * rs] = dot(c20, one);
  partial[out + 2u * rs + WG] = dot(c21, one);
  partial[out + 2u * rs + 2u * WG] = dot(c22, one);
  partial[out + 2u * rs + 3u * WG] = dot(c23, one);
  partial[out + 3u * rs] = dot(c30, one);
  partial[out + 3u * rs + WG] = dot(c31, one);
  partial[out + 3u * rs + 2u * WG] = dot(c32, one);
  partial[out + 3u * rs + 3u * WG] = dot(c33, one);
}
