/**
 * Island: a line chart (KDE curves of t) whose series can be hidden by group (model family) with
 * checkboxes. Without JavaScript every curve shows and the checkboxes stay disabled.
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { LineChart, type LineChartData } from "../lib/site/charts/mod.ts";

/** Line chart with one visibility toggle per series group. */
export default function KdeFamilies(props: LineChartData): JSX.Element {
  const groups = [...new Set(props.series.map((s) => s.group).filter((g): g is string => !!g))];
  const [hidden, setHidden] = useState<string[]>([]);
  const [live, setLive] = useState(false);
  useEffect(() => setLive(true), []);
  const toggle = (g: string) =>
    setHidden((h) => (h.includes(g) ? h.filter((x) => x !== g) : [...h, g]));
  return (
    <div class="kde-families">
      <fieldset class="toggles">
        <legend>Families shown</legend>
        {groups.map((g) => (
          <label>
            <input
              type="checkbox"
              checked={!hidden.includes(g)}
              disabled={!live}
              data-group={g}
              onChange={() => toggle(g)}
            />{" "}
            {g}
          </label>
        ))}
      </fieldset>
      <LineChart {...props} hiddenGroups={hidden} />
    </div>
  );
}
