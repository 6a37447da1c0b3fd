// The analytics tools over processed/analytics_data.csv (date_of_visit,
// visitor_id, page_views, session_duration_seconds, traffic_source,
// user_engaged as a bool) and the plots made in the session (file paths
// only; the verifier compares them).
//
// As in the release on pandas 3, get_average_session_duration without
// time_min converts the session's session_duration_seconds column to floats
// in place (later visitor lookups show 4.0, not "4"); with time_min it works
// on a filtered copy.
import { pyFloat, PyFloat } from "../../pycompat/json-dumps.js";
import { DECLARATIONS } from "./declarations.js";
import { PyError, pyStr, truthy } from "./py.js";
import { column, appendRow, col, compareMask, eqMask, filterRows, NA, records, withColumn, type Cell, type Frame } from "./tables.js";
import { workplaceTool, type Args } from "./toolkit.js";

const PLOT_VALUES = [
  "total_visits",
  "session_duration_seconds",
  "user_engaged",
  "visits_direct",
  "visits_referral",
  "visits_search_engine",
  "visits_social_media",
];
const PLOT_TYPES = ["bar", "line", "scatter", "histogram"];

/** The rows between time_min and time_max (string comparison of the dates), as the tools filter them. */
function between(data: Frame, { time_min, time_max }: Args): Frame {
  let d = data;
  if (truthy(time_min)) d = filterRows(d, compareMask(column(d, "date_of_visit"), ">=", time_min));
  if (truthy(time_max)) d = filterRows(d, compareMask(column(d, "date_of_visit"), "<=", time_max));
  return d;
}

/** groupby("date_of_visit") in sorted key order (NaN dates dropped): the rows of each date. */
function byDate(d: Frame): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  col(d, "date_of_visit").forEach((v, i) => {
    if (typeof v !== "string") return;
    let g = groups.get(v);
    if (!g) groups.set(v, (g = []));
    g.push(i);
  });
  return new Map([...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function perDate(d: Frame, value: (rows: number[]) => unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [date, rows] of byDate(d)) out[date] = value(rows);
  return out;
}

export const getVisitorInformationById = workplaceTool(DECLARATIONS.analytics_get_visitor_information_by_id!, (t, { visitor_id }) => {
  if (!truthy(visitor_id)) return "Visitor ID not provided.";
  const found = records(filterRows(t.analytics, eqMask(col(t.analytics, "visitor_id"), visitor_id)));
  return found.length > 0 ? found : "Visitor not found.";
});

export const createPlot = workplaceTool(DECLARATIONS.analytics_create_plot!, (t, { time_min, time_max, value_to_plot, plot_type }) => {
  if (!truthy(time_min)) return "Start date not provided.";
  if (!truthy(time_max)) return "End date not provided.";
  if (typeof value_to_plot !== "string" || !PLOT_VALUES.includes(value_to_plot)) {
    return "Value to plot must be one of 'total_visits', 'session_duration_seconds', 'user_engaged', 'visits_direct', 'visits_referral', 'visits_search_engine', 'visits_social_media'";
  }
  if (typeof plot_type !== "string" || !PLOT_TYPES.includes(plot_type)) return "Plot type must be one of 'bar', 'line', 'scatter', or 'histogram'";
  const filePath = `plots/${pyStr(time_min)}_${pyStr(time_max)}_${value_to_plot}_${plot_type}.png`;
  // .loc[len(df)] = [file_path]: labels 0, 1, ...; the empty object column becomes str.
  const plots = appendRow(t.plots, { file_path: filePath }, true);
  t.plots = { ...plots, data: { file_path: { dtype: "str", values: plots.data.file_path!.values } } };
  return filePath;
});

export const totalVisitsCount = workplaceTool(DECLARATIONS.analytics_total_visits_count!, (t, args) =>
  perDate(between(t.analytics, args), (rows) => rows.length),
);

export const engagedUsersCount = workplaceTool(DECLARATIONS.analytics_engaged_users_count!, (t, args) => {
  const d = between(t.analytics, args);
  const engaged = col(d, "user_engaged");
  return perDate(d, (rows) => rows.filter((i) => truthyCell(engaged[i]!)).length);
});

function truthyCell(v: Cell): boolean {
  return v === NA ? true : truthy(v);
}

export const trafficSourceCount = workplaceTool(DECLARATIONS.analytics_traffic_source_count!, (t, args) => {
  const d = between(t.analytics, args);
  if (truthy(args.traffic_source)) {
    const hit = eqMask(col(d, "traffic_source"), args.traffic_source);
    return perDate(d, (rows) => rows.filter((i) => hit[i]).length);
  }
  return perDate(d, (rows) => rows.length);
});

export const getAverageSessionDuration = workplaceTool(DECLARATIONS.analytics_get_average_session_duration!, (t, args) => {
  const d = withColumn(between(t.analytics, args), "session_duration_seconds", {
    dtype: "float64",
    values: col(between(t.analytics, args), "session_duration_seconds").map(toFloat),
  });
  // Without time_min the release's frame is the session's own table: the conversion stays.
  if (!truthy(args.time_min) && !truthy(args.time_max)) t.analytics = d;
  const seconds = col(d, "session_duration_seconds");
  return perDate(d, (rows) => {
    // pandas' groupby mean: Kahan-compensated sum over the non-NaN values.
    let sum = 0;
    let comp = 0;
    let n = 0;
    for (const i of rows) {
      const x = (seconds[i] as PyFloat).value;
      if (Number.isNaN(x)) continue;
      const y = x - comp;
      const s = sum + y;
      comp = s - sum - y;
      if (Number.isNaN(comp)) comp = 0;
      sum = s;
      n++;
    }
    return pyFloat(n === 0 ? NaN : sum / n);
  });
});

/** astype(float) of a cell: float(str), NaN stays NaN. */
function toFloat(v: Cell): PyFloat {
  if (v instanceof PyFloat) return v;
  if (v === NA) return pyFloat(NaN);
  if (typeof v === "string") {
    const x = Number(v.trim().replace(/_/g, ""));
    if (v.trim() === "" || Number.isNaN(x)) throw new PyError(`could not convert string to float: '${v}'`);
    return pyFloat(x);
  }
  return pyFloat(Number(v));
}

export const analyticsTools = [getVisitorInformationById, createPlot, totalVisitsCount, engagedUsersCount, trafficSourceCount, getAverageSessionDuration];
