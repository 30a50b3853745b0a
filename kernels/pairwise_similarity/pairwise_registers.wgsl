// Pairwise similarity, register-blocked variant for software adapters (no workgroup memory, no
// barriers): the Gram matrix G = U Uᵀ of M unit-gradient rows, summed over samples, as in
// pairwise_similarity.wgsl.
//
// Why this shape: Mesa's software adapters (llvmpipe, lavapipe) run the WG invocations of a
// workgroup as SIMD lanes, but every storage load whose address varies between lanes (all of
// ours: the address depends on the loop counter) is executed one lane at a time, each lane
// fetching all components of its vector. A load therefore costs about as much as dozens of
// multiply-adds, and the kernel's speed is set by how many multiply-adds each loaded vec4 feeds.
// Each invocation computes a whole R×R block of dot products from R + R vec4 loads per step
// (R² four-wide dot products, 8R² flops from 8R loaded floats: R flops per float), keeping its
// R² partial sums as scalars so that they stay in (or close to) the CPU's vector registers.
// Measured on lavapipe (2 cores, AVX2): vec4 storage loads run at 0.2–0.35 G/s per adapter
// against a multiply-add peak of 19–26 GFLOP/s, hence R = 8, and R = 16 from 64 models on.
//
// The input is one chunk of a batch, model-major: row m holds model m's unit vectors for the
// chunk's samples back to back, padded with zeros to cols4·4 values and read as vec4; the rows
// are padded with zero rows to a multiple of R, so there is no bounds test in the loop.
//
// Work items: one workgroup per (block pair, span): block pair p is block row bi ≤ block column
// bj (rows bi·R … bi·R+R−1 against bj·R … bj·R+R−1), span s a range of `span4` vec4 columns
// inside one segment, on a 2-D grid of gridX workgroups per row. The WG invocations of the
// workgroup (the SIMD width, 8 on lavapipe) are its lanes: they split the span's columns
// round-robin, so consecutive lanes read consecutive addresses (two cache lines per row and
// step, instead of 8·2R scattered streams), and each writes its own partial block. TypeScript
// writes WG and R and the unrolled body (the DECLARE, LOAD, FMA and STORE placeholders: one
// line per accumulator, load or store) from one function.
//
// Loop bound per invocation (Mesa's software adapters stop an invocation after 65,535 loop
// iterations): ceil(span4 / WG) + 1; the dispatcher keeps it under its cap.
//
// Output: one partial R×R block per (block pair, span, lane), at ((s·WG + l)·blockPairs + p)·R²
// with element (r, c) at r·R + c: the lanes are WG more spans to span_sums.wgsl, which adds the
// spans of each segment on the GPU; the CPU adds the results across chunks and batches in f64.
//
// Bindings:
//   0 params    uniform: rows (padded to a multiple of R), cols4 (vec4 columns per row),
//               span4 (vec4 columns per work item), blockPairs (in this dispatch), spans (per
//               block pair), gridX, segment (vec4 columns per segment: all, or one sample's),
//               spansPerSegment.
//   1 units     storage read: rows × cols4 vec4<f32>, row-major.
//   2 pairIndex storage read: one u32 per block pair, (bi << 16) | bj.
//   3 partial   storage read_write: spans × WG × blockPairs × R × R f32.

const WG: u32 = {{WG}}u;
const R: u32 = {{R}}u;

struct Params {
  rows: u32,
  cols4: u32,
  span4: u32,
  blockPairs: u32,
  spans: u32,
  gridX: u32,
  segment: u32,
  spansPerSegment: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> units: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> pairIndex: array<u32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lane: u32) {
  let w = wid.x + wid.y * params.gridX;
  if (w >= params.blockPairs * params.spans) {
    return;
  }
  let p = w % params.blockPairs;
  let s = w / params.blockPairs;
  let packed = pairIndex[p];
  let stride = params.cols4;
  let a = (packed >> 16u) * R * stride;
  let b = (packed & 0xffffu) * R * stride;
  // Spans never cross a segment boundary: with segment = one sample's columns, each partial
  // block holds per-sample dot products (the cosines behind the per-pair histograms).
  let segment = s / params.spansPerSegment;
  let segmentEnd = min((segment + 1u) * params.segment, params.cols4);
  let kBegin = segment * params.segment + (s % params.spansPerSegment) * params.span4;
  let kEnd = min(kBegin + params.span4, segmentEnd);

{{DECLARE}}
  // The lanes interleave over the span: lane l takes columns kBegin + l, + l + WG, …, so the
  // lanes of one step read WG consecutive vec4 of each row.
  for (var k = kBegin + lane; k < kEnd; k += WG) {
{{LOAD}}
{{FMA}}
  }
  // Lane l's block is the partial of virtual span s·WG + l.
  let out = ((s * WG + lane) * params.blockPairs + p) * R * R;
{{STORE}}
}
