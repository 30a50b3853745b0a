// Normalise + pool: turns each (model, sample) gradient row into a unit vector.
//
// Rows are numbered row = model·samples + sample within a chunk (model-major input); each row
// holds inDim values, laid out channels × height × width when pooling. Optional P×P area
// pooling per channel (PyTorch's interpolate(mode='area'), i.e. adaptive average pooling):
// output cell (c, i, j) averages input rows floor(i·H/P) … ceil((i+1)·H/P)−1 and columns
// floor(j·W/P) … ceil((j+1)·W/P)−1 of channel c; windows overlap when P does not divide H.
// Then the scaled L2 norm: n = max|v| · sqrt(Σ (v/max|v|)²), so tiny (1e-30) and huge (1e30)
// gradients both work in f32, and the unit vector (v/max|v|)/sqrt(Σ(v/max|v|)²).
//
// Tiling: one workgroup of WG invocations per row; the rows of a dispatch lie on a 2-D grid of
// gridX workgroups per row of the grid. Each invocation owns output values lid, lid+WG, … and
// makes three passes over them: (1) pool or copy into `outputs`, tracking max|v| and whether any
// input is NaN/Inf (tested on the bit pattern, as WGSL may assume finite floats); (2) sum of
// squares of v/max; (3) scale in place. Max, flag and sum are combined by trees in workgroup
// memory. As each invocation only rereads the values it wrote, passes need no storage barrier.
//
// Loop bound per invocation (Mesa's software adapters stop an invocation after 65,535
// iterations): ceil(outDim/WG)·(1 + winRows·(1 + winCols)) + 2·ceil(outDim/WG) + 3·log2(WG);
// the dispatcher asserts it is under its cap. TypeScript writes WG (a power of two).
//
// Bindings:
//   0 params  uniform: rows, inDim, outDim, gridX, pool (0 = none, else P), channels, height,
//             width.
//   1 inputs  storage read: rows × inDim f32 gradients.
//   2 outputs storage read_write: rows × outDim f32 unit vectors (zeros for zero rows).
//   3 stats   storage read_write: per row, 3 words: status (0 ok, 1 zero, 2 NaN/Inf),
//             max|v| (f32 bits), sqrt(Σ(v/max)²) (f32 bits); the norm is their product.

const WG: u32 = {{WG}}u;

struct Params {
  rows: u32,
  inDim: u32,
  outDim: u32,
  gridX: u32,
  pool: u32,
  channels: u32,
  height: u32,
  width: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> inputs: array<f32>;
@group(0) @binding(2) var<storage, read_write> outputs: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<u32>;

var<workgroup> redF: array<f32, WG>;
var<workgroup> redU: array<u32, WG>;

fn nonFinite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * params.gridX;
  if (row >= params.rows) {
    return;
  }
  let inBase = row * params.inDim;
  let outBase = row * params.outDim;
  let P = params.pool;
  let H = params.height;
  let W = params.width;

  // Pass 1: pool or copy, max |v|, NaN/Inf flag.
  var mx = 0.0;
  var bad = 0u;
  for (var o = lid; o < params.outDim; o += WG) {
    var v = 0.0;
    if (P == 0u) {
      v = inputs[inBase + o];
      if (nonFinite(v)) {
        bad = 1u;
      }
    } else {
      let c = o / (P * P);
      let i = (o / P) % P;
      let j = o % P;
      let h0 = (i * H) / P;
      let h1 = ((i + 1u) * H + P - 1u) / P;
      let w0 = (j * W) / P;
      let w1 = ((j + 1u) * W + P - 1u) / P;
      var s = 0.0;
      for (var h = h0; h < h1; h++) {
        let rowStart = inBase + (c * H + h) * W;
        for (var w = w0; w < w1; w++) {
          let g = inputs[rowStart + w];
          if (nonFinite(g)) {
            bad = 1u;
          }
          s += g;
        }
      }
      v = s / f32((h1 - h0) * (w1 - w0));
    }
    if (nonFinite(v)) {
      bad = 1u;
    }
    outputs[outBase + o] = v;
    mx = max(mx, abs(v));
  }
  redF[lid] = mx;
  redU[lid] = bad;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      redF[lid] = max(redF[lid], redF[lid + stride]);
      redU[lid] = max(redU[lid], redU[lid + stride]);
    }
    workgroupBarrier();
  }
  let rowMax = redF[0];
  let rowBad = redU[0];
  workgroupBarrier();

  // Pass 2: sum of squares of v / max (skipped for zero or bad rows).
  var ss = 0.0;
  if (rowMax > 0.0 && rowBad == 0u) {
    for (var o = lid; o < params.outDim; o += WG) {
      let q = outputs[outBase + o] / rowMax;
      ss = fma(q, q, ss);
    }
  }
  redF[lid] = ss;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      redF[lid] += redF[lid + stride];
    }
    workgroupBarrier();
  }
  let root = sqrt(redF[0]);

  // Pass 3: unit vector in place.
  if (rowMax > 0.0 && rowBad == 0u) {
    let inv = 1.0 / root;
    for (var o = lid; o < params.outDim; o += WG) {
      outputs[outBase + o] = (outputs[outBase + o] / rowMax) * inv;
    }
  } else {
    for (var o = lid; o < params.outDim; o += WG) {
      outputs[outBase + o] = 0.0;
    }
  }
  if (lid == 0u) {
    var status = 0u;
    if (rowBad != 0u) {
      status = 2u;
    } else if (rowMax == 0.0) {
      status = 1u;
    }
    stats[3u * row] = status;
    stats[3u * row + 1u] = bitcast<u32>(rowMax);
    stats[3u * row + 2u] = bitcast<u32>(root);
  }
}
