/**
 * The island registry, as Fresh generates it into `fresh.gen.ts`: every component in `islands/`
 * by its file name (which is also its function's name). The browser bundle hydrates islands from
 * it; a test checks that it lists exactly the files present. Browser-safe: nothing else is
 * imported here.
 * @module
 */
import BrowserAnalysis from "./islands/BrowserAnalysis.tsx";
import HeatmapHover from "./islands/HeatmapHover.tsx";
import KdeFamilies from "./islands/KdeFamilies.tsx";

/** Island components by name. */
const islands = { BrowserAnalysis, HeatmapHover, KdeFamilies };

export default islands;
