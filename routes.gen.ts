/**
 * The route manifest, as Fresh generates `fresh.gen.ts`: every file under `routes/` by its path.
 * A test checks that it lists exactly the files present, so a new route file cannot be forgotten.
 * @module
 */
import { type Manifest, page } from "./lib/site/router.ts";
import * as $index from "./routes/index.tsx";
import * as $compare from "./routes/compare.tsx";
import * as $analyze from "./routes/analyze.tsx";
import * as $sweep from "./routes/sweeps/[sweep]/index.tsx";
import * as $similarity from "./routes/sweeps/[sweep]/similarity.tsx";
import * as $distributions from "./routes/sweeps/[sweep]/distributions.tsx";
import * as $attacks from "./routes/sweeps/[sweep]/attacks.tsx";
import * as $ensembles from "./routes/sweeps/[sweep]/ensembles.tsx";
import * as $batchSize from "./routes/sweeps/[sweep]/batch_size.tsx";
import * as $smallPredictsLarge from "./routes/sweeps/[sweep]/small_predicts_large.tsx";
import * as $claims from "./routes/sweeps/[sweep]/claims.tsx";
import * as $gallery from "./routes/sweeps/[sweep]/gallery.tsx";
import * as $methods from "./routes/sweeps/[sweep]/methods.tsx";
import * as $epochs from "./routes/sweeps/[sweep]/epochs.tsx";
import * as $data from "./routes/sweeps/[sweep]/data/[file].ts";

/** Route file (relative to `routes/`) → module. */
const manifest: Manifest = {
  "index.tsx": page($index),
  "compare.tsx": page($compare),
  "analyze.tsx": page($analyze),
  "sweeps/[sweep]/index.tsx": page($sweep),
  "sweeps/[sweep]/similarity.tsx": page($similarity),
  "sweeps/[sweep]/distributions.tsx": page($distributions),
  "sweeps/[sweep]/attacks.tsx": page($attacks),
  "sweeps/[sweep]/ensembles.tsx": page($ensembles),
  "sweeps/[sweep]/batch_size.tsx": page($batchSize),
  "sweeps/[sweep]/small_predicts_large.tsx": page($smallPredictsLarge),
  "sweeps/[sweep]/claims.tsx": page($claims),
  "sweeps/[sweep]/gallery.tsx": page($gallery),
  "sweeps/[sweep]/methods.tsx": page($methods),
  "sweeps/[sweep]/epochs.tsx": page($epochs),
  "sweeps/[sweep]/data/[file].ts": $data,
};

export default manifest;
