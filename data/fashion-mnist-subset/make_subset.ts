// Regenerates the embedded Fashion-MNIST subset (this folder's four .gz files and SHA256SUMS)
// from the full idx files, byte for byte:
//
//   deno run --allow-read --allow-write data/fashion-mnist-subset/make_subset.ts [SRC_DIR] [DST_DIR]
//
// SRC_DIR defaults to Debian's /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist),
// DST_DIR to this folder. The recipe (counts, seed, selection) lives in lib/data/fmnist_subset.ts.
import { makeFashionMnistSubset } from "../../lib/data/mod.ts";

const [src, dst] = Deno.args;
const written = await makeFashionMnistSubset(src, dst ?? new URL("./", import.meta.url));
for (const path of written) console.log(`wrote ${path}`);
