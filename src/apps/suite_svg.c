/* The suite's charts as standalone SVG 1.1 (valid XML: tests run xmllint over them):
 *
 *   latency.svg   one row per prompt class, TTFT and end-to-end lanes: every run a dot,
 *                 the p50 a tall tick, the p95 a short one, min to max a line; log-scale
 *                 time axis, since classes span milliseconds to minutes
 *   tps.svg       prompt and generation tokens/s by context length: p50 bars with min-max
 *                 whiskers, one panel each (their scales differ tenfold)
 *   breakage.svg  per task the share of runs that did not parse, failed the schema or were
 *                 valid, as one stacked bar
 *
 * Only text this program writes goes in: class names and task ids, numbers. */
#include "suite.h"

#include <math.h>
#include <string.h>

#define FONT    "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""
#define C_TTFT  "#1f77b4"
#define C_E2E   "#ff7f0e"
#define C_GRID  "#dddddd"
#define C_AXIS  "#444444"
#define C_BAD   "#d62728"
#define C_SHAPE "#ff9f40"
#define C_OK    "#2ca02c"

#define P(...)                                         \
    do {                                               \
        if (st == TM_OK)                               \
            st = tm_buf_printf(out, err, __VA_ARGS__); \
    } while (0)

static tm_status head(tm_buf *out, int w, int h, const char *title, tm_err *err)
{
    tm_status st = TM_OK;
    P("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" " FONT ">\n"
      "<title>%s</title>\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
      "<text x=\"%d\" y=\"26\" font-size=\"17\" font-weight=\"bold\" text-anchor=\"middle\" "
      "fill=\"#222222\">%s</text>\n",
      w, h, w, h, title, w / 2, title);
    return st;
}

/* "12 ms", "1.5 s", "2 min" for an axis label. */
static void time_label(double ms, char *buf, size_t cap)
{
    if (ms < 1)
        snprintf(buf, cap, "%g µs", ms * 1000);
    else if (ms < 1000)
        snprintf(buf, cap, "%g ms", ms);
    else if (ms < 60000)
        snprintf(buf, cap, "%g s", ms / 1000);
    else
        snprintf(buf, cap, "%g min", ms / 60000);
}

/* A step of 1, 2 or 5 x 10^k near span / n. */
static double nice_step(double span, int n)
{
    double raw = span / n, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* ---- latency.svg ---------------------------------------------------------------------------- */

typedef struct row {
    const char *name;
    char label[48];
    const suite_sample *s;
    int n;
} row;

static int latency_rows(const suite_results *r, row *rows, int cap)
{
    int n = 0;
    if (r->have_cold && n < cap) {
        rows[n] = (row){"cold", "", &r->cold, 1};
        snprintf(rows[n].label, sizeof rows[n].label, "first request");
        n++;
    }
    const suite_class *all[SUITE_MAX_CLASSES + 2];
    int k = 0;
    for (int i = 0; i < r->n_classes; i++)
        all[k++] = &r->classes[i];
    all[k++] = &r->prefix_on;
    all[k++] = &r->prefix_off;
    for (int i = 0; i < k && n < cap; i++) {
        const suite_class *c = all[i];
        if (c->skipped || c->n == 0)
            continue;
        double x[SUITE_MAX_RUNS];
        for (int j = 0; j < c->n; j++)
            x[j] = c->s[j].n_prompt;
        suite_stats s;
        suite_stats_of(x, c->n, &s);
        rows[n] = (row){c->name, "", c->s, c->n};
        if (s.n)
            snprintf(rows[n].label, sizeof rows[n].label, "%.0f prompt tokens", s.p50);
        n++;
    }
    return n;
}

static double log_x(double ms, double lo, double hi, double x0, double x1)
{
    return x0 + (log10(ms) - log10(lo)) / (log10(hi) - log10(lo)) * (x1 - x0);
}

/* One lane: the dots of every run, the min-max line, the p50 and p95 ticks. */
static tm_status lane(tm_buf *out, const row *rw, bool ttft, double lo, double hi, double x0,
                      double x1, double y, tm_err *err)
{
    tm_status st = TM_OK;
    double v[SUITE_MAX_RUNS] = {0};
    for (int i = 0; i < rw->n; i++)
        v[i] = ttft ? rw->s[i].ttft_ms : rw->s[i].e2e_ms;
    suite_stats s;
    suite_stats_of(v, rw->n, &s);
    if (s.n == 0)
        return st;
    const char *color = ttft ? C_TTFT : C_E2E;
    P("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" "
      "opacity=\"0.5\"/>\n",
      log_x(s.min, lo, hi, x0, x1), y, log_x(s.max, lo, hi, x0, x1), y, color);
    for (int i = 0; i < rw->n; i++)
        if (v[i] > 0) /* deterministic jitter: runs that tie stay visible */
            P("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" fill-opacity=\"0.55\"/>\n",
              log_x(v[i], lo, hi, x0, x1), y + ((i * 7) % 9 - 4) * 0.9, color);
    double xp50 = log_x(s.p50, lo, hi, x0, x1), xp95 = log_x(s.p95, lo, hi, x0, x1);
    P("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n",
      xp50, y - 9, xp50, y + 9, color);
    P("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n",
      xp95, y - 5, xp95, y + 5, color);
    char lab[32], num[16];
    snprintf(num, sizeof num, "%.3g", s.p50 < 1000 ? s.p50 : s.p50 / 1000);
    snprintf(lab, sizeof lab, "%s %s", num, s.p50 < 1000 ? "ms" : "s");
    /* TTFT's label above its lane, e2e's below: they never cover the other lane's dots */
    P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"%s\" text-anchor=\"middle\">%s</text>\n",
      xp50, ttft ? y - 11 : y + 19, color, lab);
    return st;
}

tm_status suite_svg_latency(const suite_results *r, tm_buf *out, tm_err *err)
{
    row rows[SUITE_MAX_CLASSES + 3];
    int n = latency_rows(r, rows, (int)TM_ARRAY_LEN(rows));
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < rows[i].n; k++) {
            double t = rows[i].s[k].ttft_ms, e = rows[i].s[k].e2e_ms;
            if (t > 0)
                lo = TM_MIN(lo, t), hi = TM_MAX(hi, t);
            if (e > 0)
                lo = TM_MIN(lo, e), hi = TM_MAX(hi, e);
        }
    if (!(hi > 0)) /* nothing measured: an empty axis of 1 ms .. 1 s */
        lo = 1, hi = 1000;
    lo = pow(10, floor(log10(lo))); /* whole decades */
    hi = pow(10, ceil(log10(hi) + 1e-9));
    if (hi <= lo)
        hi = lo * 10;
    const int w = 860, left = 170, right = 30, top = 70, row_h = 72;
    int h = top + TM_MAX(n, 1) * row_h + 60;
    double x0 = left, x1 = w - right;
    tm_status st = head(out, w, h, "Latency by prompt class", err);
    /* legend */
    P("<g font-size=\"12\" fill=\"#222222\">"
      "<circle cx=\"%d\" cy=\"46\" r=\"4\" fill=\"" C_TTFT "\"/>"
      "<text x=\"%d\" y=\"50\">time to first token</text>"
      "<circle cx=\"%d\" cy=\"46\" r=\"4\" fill=\"" C_E2E "\"/>"
      "<text x=\"%d\" y=\"50\">end to end</text>"
      "<text x=\"%d\" y=\"50\">dots: runs; tall tick: p50; short tick: p95; line: min to "
      "max</text></g>\n",
      left, left + 10, left + 160, left + 170, left + 270);
    /* decade grid with 2 and 5 between */
    double y_axis = top + n * row_h + 8;
    for (double d = lo; d <= hi * 1.0001; d *= 10)
        for (int m = 1; m <= 5; m += (m == 1 ? 1 : 3)) {
            double v = d * m;
            if (v > hi * 1.0001)
                break;
            double x = log_x(v, lo, hi, x0, x1);
            char lab[32];
            time_label(v, lab, sizeof lab);
            P("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GRID
              "\" stroke-width=\"%s\"/>\n",
              x, top - 8, x, y_axis, m == 1 ? "1" : "0.5");
            P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"%s\" fill=\"" C_AXIS
              "\" text-anchor=\"middle\">%s</text>\n",
              x, y_axis + 16, m == 1 ? "12" : "10", lab);
        }
    P("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_AXIS "\"/>\n", x0, y_axis,
      x1, y_axis);
    P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"" C_AXIS
      "\" text-anchor=\"middle\">time (log scale)</text>\n",
      (x0 + x1) / 2, y_axis + 36);
    for (int i = 0; i < n; i++) {
        double y = top + i * row_h;
        if (i % 2 == 1)
            P("<rect x=\"10\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#f6f6f6\"/>\n", y - 4,
              w - 20, row_h);
        P("<text x=\"%d\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\" fill=\"#222222\" "
          "text-anchor=\"end\">%s</text>\n",
          left - 12, y + row_h / 2 - 4, rows[i].name);
        P("<text x=\"%d\" y=\"%.1f\" font-size=\"10\" fill=\"#666666\" text-anchor=\"end\">%s "
          "(%d run%s)</text>\n",
          left - 12, y + row_h / 2 + 10, rows[i].label, rows[i].n, rows[i].n == 1 ? "" : "s");
        if (st == TM_OK)
            st = lane(out, &rows[i], true, lo, hi, x0, x1, y + row_h * 0.30, err);
        if (st == TM_OK)
            st = lane(out, &rows[i], false, lo, hi, x0, x1, y + row_h * 0.58, err);
    }
    if (n == 0)
        P("<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#666666\" text-anchor=\"middle\">no "
          "latency was measured</text>\n",
          w / 2, top + 30);
    P("</svg>\n");
    return st;
}

/* ---- tps.svg -------------------------------------------------------------------------------- */

static tm_status bar_panel(tm_buf *out, const suite_results *r, bool prompt, double px, double pw,
                           double top, double ph, tm_err *err)
{
    tm_status st = TM_OK;
    const suite_class *cs[SUITE_MAX_CLASSES];
    suite_stats s[SUITE_MAX_CLASSES], np[SUITE_MAX_CLASSES];
    int n = 0;
    double hi = 0;
    for (int i = 0; i < r->n_classes; i++) {
        const suite_class *c = &r->classes[i];
        if (c->skipped || c->n == 0)
            continue;
        double x[SUITE_MAX_RUNS], y[SUITE_MAX_RUNS];
        for (int k = 0; k < c->n; k++) {
            x[k] = prompt ? c->s[k].prompt_tps : c->s[k].gen_tps;
            y[k] = c->s[k].n_prompt;
        }
        suite_stats_of(x, c->n, &s[n]);
        suite_stats_of(y, c->n, &np[n]);
        hi = TM_MAX(hi, s[n].max);
        cs[n++] = c;
    }
    const char *color = prompt ? C_TTFT : C_E2E;
    P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" font-weight=\"bold\" fill=\"#222222\" "
      "text-anchor=\"middle\">%s</text>\n",
      px + pw / 2, top - 14, prompt ? "prompt (prefill)" : "generation (decode)");
    if (!(hi > 0))
        hi = 1;
    double step = nice_step(hi, 5), ymax = ceil(hi * 1.08 / step) * step;
    double y0 = top + ph;
    for (double v = 0; v <= ymax * 1.0001; v += step) {
        double y = y0 - v / ymax * ph;
        P("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GRID "\"/>\n", px, y,
          px + pw, y);
        P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"" C_AXIS
          "\" text-anchor=\"end\">%g</text>\n",
          px - 6, y + 3.5, v);
    }
    P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"" C_AXIS
      "\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\">tokens/s</text>\n",
      px - 44, top + ph / 2, px - 44, top + ph / 2);
    P("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_AXIS "\"/>\n", px, y0,
      px + pw, y0);
    double slot = n ? pw / n : pw, bw = TM_MIN(slot * 0.55, 70);
    for (int i = 0; i < n; i++) {
        double cx = px + slot * (i + 0.5);
        if (s[i].n > 0) {
            double yb = y0 - s[i].p50 / ymax * ph;
            P("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
              "fill-opacity=\"0.8\"/>\n",
              cx - bw / 2, yb, bw, y0 - yb, color);
            double ylo = y0 - s[i].min / ymax * ph, yhi = y0 - s[i].max / ymax * ph;
            P("<path d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fH%.1f\" stroke=\"#333333\" "
              "stroke-width=\"1.2\" fill=\"none\"/>\n",
              cx, ylo, yhi, cx - 6, ylo, cx + 6, cx - 6, yhi, cx + 6);
            P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#222222\" "
              "text-anchor=\"middle\">%.*f</text>\n",
              cx, yhi - 5,
              s[i].p50 < 10    ? 2
              : s[i].p50 < 100 ? 1
                               : 0,
              s[i].p50);
        } else
            P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#666666\" "
              "text-anchor=\"middle\">n/a</text>\n",
              cx, y0 - 6);
        P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#222222\" "
          "text-anchor=\"middle\">%s</text>\n",
          cx, y0 + 16, cs[i]->name);
        if (np[i].n)
            P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#666666\" "
              "text-anchor=\"middle\">%.0f tok</text>\n",
              cx, y0 + 30, np[i].p50);
    }
    return st;
}

tm_status suite_svg_tps(const suite_results *r, tm_buf *out, tm_err *err)
{
    const int w = 860, h = 380;
    tm_status st = head(out, w, h, "Tokens per second by context length", err);
    P("<text x=\"%d\" y=\"46\" font-size=\"12\" fill=\"#444444\" text-anchor=\"middle\">bars: "
      "p50 over the runs; whiskers: min to max; below: the prompt's tokens</text>\n",
      w / 2);
    if (st == TM_OK)
        st = bar_panel(out, r, true, 80, 330, 90, 220, err);
    if (st == TM_OK)
        st = bar_panel(out, r, false, 500, 330, 90, 220, err);
    P("</svg>\n");
    return st;
}

/* ---- breakage.svg --------------------------------------------------------------------------- */

tm_status suite_svg_breakage(const suite_results *r, tm_buf *out, tm_err *err)
{
    int n = 0;
    for (int i = 0; i < SUITE_N_TASKS; i++)
        n += r->tasks[i].n > 0;
    const int w = 860, left = 190, right = 110, top = 80, bar_h = 30, gap = 22;
    int h = top + TM_MAX(n, 1) * (bar_h + gap) + 50;
    double x0 = left, x1 = w - right;
    tm_status st = head(out, w, h, "JSON breakage by task (free generation)", err);
    P("<g font-size=\"12\" fill=\"#222222\">"
      "<rect x=\"%d\" y=\"40\" width=\"12\" height=\"12\" fill=\"" C_BAD "\"/>"
      "<text x=\"%d\" y=\"50\">did not parse</text>"
      "<rect x=\"%d\" y=\"40\" width=\"12\" height=\"12\" fill=\"" C_SHAPE "\"/>"
      "<text x=\"%d\" y=\"50\">parsed, failed the schema</text>"
      "<rect x=\"%d\" y=\"40\" width=\"12\" height=\"12\" fill=\"" C_OK "\"/>"
      "<text x=\"%d\" y=\"50\">valid</text></g>\n",
      left, left + 18, left + 130, left + 148, left + 330, left + 348);
    double y_axis = top + n * (bar_h + gap);
    for (int p = 0; p <= 100; p += 20) {
        double x = x0 + p / 100.0 * (x1 - x0);
        P("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_GRID "\"/>\n", x,
          top - 10, x, y_axis);
        P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"" C_AXIS
          "\" text-anchor=\"middle\">%d%%</text>\n",
          x, y_axis + 16, p);
    }
    P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"" C_AXIS
      "\" text-anchor=\"middle\">share of runs</text>\n",
      (x0 + x1) / 2, y_axis + 36);
    int k = 0;
    for (int i = 0; i < SUITE_N_TASKS; i++) {
        const suite_task_result *t = &r->tasks[i];
        if (t->n == 0)
            continue;
        double y = top + k++ * (bar_h + gap);
        int u = suite_task_n_unparsed(t), b = suite_task_n_broken(t);
        double parts[3] = {(double)u / t->n, (double)(b - u) / t->n, (double)(t->n - b) / t->n};
        const char *colors[3] = {C_BAD, C_SHAPE, C_OK};
        double x = x0;
        for (int j = 0; j < 3; j++) {
            double wd = parts[j] * (x1 - x0);
            if (wd > 0)
                P("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", x, y,
                  wd, bar_h, colors[j]);
            x += wd;
        }
        P("<text x=\"%d\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\" fill=\"#222222\" "
          "text-anchor=\"end\">%s</text>\n",
          left - 10, y + 13, t->task->id);
        P("<text x=\"%d\" y=\"%.1f\" font-size=\"10\" fill=\"#666666\" text-anchor=\"end\">%d "
          "run%s</text>\n",
          left - 10, y + 26, t->n, t->n == 1 ? "" : "s");
        P("<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#222222\">%.0f%% broken</text>\n",
          x1 + 8, y + 19, 100.0 * b / t->n);
    }
    if (n == 0)
        P("<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#666666\" text-anchor=\"middle\">no "
          "task was run</text>\n",
          w / 2, top + 20);
    P("</svg>\n");
    return st;
}
