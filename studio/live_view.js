// The Train page's live view: status, charts, grids and the quality meter of one run, kept mounted and fed by
// polling the run's own route (studio/live_stream.py) for what is new. Streamlit calls this function on mount and
// again whenever the page passes new data (another run, another refresh period); the view lives on the element.
const MAX_POINTS = 600; // per trace; past twice this, every other point goes (the latest always stays)
// A plotly redraw costs ~20 ms of the browser's main thread per chart whatever its points, which a browser on the
// cores that train takes from training: the charts take new points at most this often, and only when on screen.
const CHART_MS = 3000;
const COLOURS = ["#0068c9", "#83c9ff", "#ff2b2b", "#ffabab", "#29b09d", "#7defa1", "#ff8700", "#ffd16a"];
const ENDED = ["finished", "stopped", "failed"];

function plotlyReady() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.ganStudioPlotly) {
    window.ganStudioPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "api/live/plotly.min.js"; // relative: same origin, behind any proxy
      script.onload = () => resolve(window.Plotly);
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  return window.ganStudioPlotly;
}

function element(parent, tag, className, text) {
  const node = parent.appendChild(document.createElement(tag));
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function styled(figure, root) {
  // Fixed margins (automatic ones measure every label at every redraw), few x ticks, the legend below the axis.
  const layout = Object.assign({colorway: COLOURS, paper_bgcolor: "rgba(0, 0, 0, 0)", plot_bgcolor: "rgba(0, 0, 0, 0)",
    font: {family: getComputedStyle(root).fontFamily, color: getComputedStyle(root).color}}, figure.layout);
  const grid = {gridcolor: "rgba(128, 128, 128, 0.2)", zerolinecolor: "rgba(128, 128, 128, 0.4)"};
  layout.margin = {l: 64, r: 10, t: 40, b: 96};
  layout.xaxis = Object.assign({}, grid, {nticks: 5, tickangle: 0}, layout.xaxis);
  layout.yaxis = Object.assign({}, grid, layout.yaxis);
  const plotHeight = (layout.height || 260) - layout.margin.t - layout.margin.b;
  layout.legend = Object.assign({}, layout.legend, {yanchor: "top", y: -58 / plotHeight});
  return layout;
}

class LiveView {
  constructor(parent, data, setTriggerValue) {
    this.token = data.token;
    this.setTriggerValue = setTriggerValue;
    this.url = `api/live/${encodeURIComponent(data.token)}`;
    this.after = -1;
    this.grids = [];
    this.scores = [];
    this.root = element(parent, "div", "gs-live");
    const status = element(this.root, "p", "gs-live-status");
    this.status = element(status, "strong");
    this.progress = element(element(this.root, "div", "gs-live-progress"), "div");
    this.alarms = element(this.root, "div", "gs-live-alarms");
    this.chartRow = element(this.root, "div", "gs-live-charts");
    this.healthy = element(this.root, "p", "gs-live-caption", data.healthy);
    this.healthy.hidden = true;
    const pictures = element(this.root, "div", "gs-live-pictures");
    const fake = element(pictures, "div");
    this.scrubLabel = element(fake, "label", "gs-live-scrub");
    element(this.scrubLabel, "span", "", "Scrub through training ");
    this.scrub = element(this.scrubLabel, "input");
    Object.assign(this.scrub, {type: "range", min: 0, max: 0, value: 0, step: 1});
    this.scrubShown = element(this.scrubLabel, "span", "gs-live-scrub-label");
    this.scrubLabel.hidden = true;
    this.scrub.addEventListener("input", () => { this.showGrid(Number(this.scrub.value)); this.drawPending(); });
    this.grid = element(fake, "img");
    this.gridCaption = element(fake, "div", "gs-live-caption", data.waiting);
    this.grid.hidden = true;
    const real = element(pictures, "div");
    this.real = element(real, "img");
    this.realCaption = element(real, "div", "gs-live-caption");
    this.real.hidden = true;
    this.quality = element(element(this.root, "p", "gs-live-status"), "strong");
    this.qualityRow = element(this.root, "div", "gs-live-charts");
    this.qualityCaption = element(this.root, "p", "gs-live-caption", data.quality);
    this.qualityCaption.hidden = true;
    this.charts = [];
    this.pending = null; // rows not yet on the charts
    this.onScreen = new Set();
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) this.onScreen.add(entry.target); else this.onScreen.delete(entry.target);
      }
      this.drawPending();
    });
    this.observer.observe(this.chartRow);
    this.observer.observe(this.qualityRow);
    this.resizer = new ResizeObserver((entries) => { // the page's width changed (not its height): charts follow
      const width = entries[entries.length - 1].contentRect.width;
      if (width === this.width || !window.Plotly) return;
      this.width = width;
      for (const div of this.root.querySelectorAll(".js-plotly-plot")) window.Plotly.Plots.resize(div);
    });
    this.resizer.observe(this.root);
    this.update(data);
    this.onVisible = () => { if (!document.hidden) this.poll(); };
    document.addEventListener("visibilitychange", this.onVisible);
    this.poll();
  }

  update(data) {
    this.refresh = data.refresh;
    this.pageState = data.state; // the state the page was drawn for: another one calls for a rerun
    this.triggered = false;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    document.removeEventListener("visibilitychange", this.onVisible);
    this.observer.disconnect();
    this.resizer.disconnect();
  }

  async poll() {
    clearTimeout(this.timer);
    if (this.stopped || this.busy) return;
    if (document.hidden) return; // a hidden tab asks nothing; showing it again polls at once
    this.busy = true;
    const asked = performance.now();
    let answer = null;
    try {
      const query = `after=${this.after}&grids=${this.grids.length}&scores=${this.scores.length}`;
      const response = await fetch(`${this.url}?${query}`, {cache: "no-store"});
      if (response.status === 404) { this.stop(); return; } // the run is gone (or was never ours)
      if (response.ok) answer = await response.json();
    } catch (error) { /* the server restarted or the network blinked: try again next time */ }
    finally { this.busy = false; }
    if (answer && !this.stopped) await this.apply(answer);
    if (answer && ENDED.includes(answer.state)) this.stopped = true; // nothing more will come
    const wait = Math.max(100, this.refresh * 1000 - (performance.now() - asked)); // a steady period
    if (!this.stopped) this.timer = setTimeout(() => this.poll(), wait);
  }

  async apply(answer) {
    this.status.textContent = answer.status;
    this.progress.style.transform = `scaleX(${answer.fraction})`; // the compositor's work: no layout, no repaint
    this.showAlarms(answer.alarms);
    this.state = answer.state;
    const Plotly = await plotlyReady();
    if (answer.charts && !this.charts.length) this.drawCharts(Plotly, answer.charts);
    this.addGrids(answer.grids, answer.real);
    this.addScores(answer);
    this.extend(answer.rows);
    this.drawPending();
    if (answer.state !== this.pageState && !this.triggered) {
      this.triggered = true; // once: the rerun passes the new state
      this.setTriggerValue("state", answer.state);
    }
  }

  showAlarms(alarms) {
    const text = alarms.join("\n");
    if (text === this.alarmText) return;
    this.alarmText = text;
    this.alarms.replaceChildren(...alarms.map((alarm) => {
      const node = document.createElement("div");
      node.className = "gs-live-alarm";
      node.textContent = `⚠ ${alarm}`;
      return node;
    }));
  }

  drawCharts(Plotly, figures) {
    const divs = figures.map(() => element(this.chartRow, "div")); // all in the row first: each plots at its width
    this.charts = figures.map((figure, i) => {
      Plotly.newPlot(divs[i], figure.data, styled(figure, this.root), {displaylogo: false});
      return {div: divs[i], columns: figure.data.map((trace) => trace.meta)};
    });
  }

  extend(rows) {
    const steps = rows.step;
    if (!steps || !steps.length) return;
    this.after = steps[steps.length - 1];
    this.healthy.hidden = false;
    if (!this.pending) this.pending = rows;
    else for (const column in rows) this.pending[column].push(...rows[column]);
  }

  drawPending() {
    // What is new onto the charts on screen: rows at most every CHART_MS (all at once when the run has ended),
    // the meter's figures as soon as they are new.
    const Plotly = window.Plotly;
    if (!Plotly) return;
    const rowsDue = ENDED.includes(this.state) || performance.now() - (this.chartsDrawn || 0) >= CHART_MS;
    if (this.pending && this.charts.length && this.onScreen.has(this.chartRow) && rowsDue) {
      const rows = this.pending;
      this.pending = null;
      this.chartsDrawn = performance.now();
      for (const chart of this.charts) {
        Plotly.extendTraces(chart.div, {x: chart.columns.map(() => rows.step), y: chart.columns.map((c) => rows[c])},
                            chart.columns.map((_, i) => i));
        if (chart.div.data[0].x.length > 2 * MAX_POINTS) this.thin(Plotly, chart);
      }
    }
    if (this.qualityFigures && this.onScreen.has(this.qualityRow)) { // new once an epoch: drawn when new
      const figures = this.qualityFigures;
      this.qualityFigures = null;
      figures.forEach((figure, i) => {
        if (figure) {
          Plotly.react(this.qualityCharts[i], figure.data, styled(figure, this.root), {displaylogo: false});
        }
      });
    }
  }

  thin(Plotly, chart) {
    const keep = (values) => values.filter((_, i) => i % 2 === 0 || i === values.length - 1);
    Plotly.restyle(chart.div, {x: chart.div.data.map((t) => keep(t.x)), y: chart.div.data.map((t) => keep(t.y))});
  }

  addGrids(grids, real) {
    if (real && this.real.hidden) {
      this.real.src = `${this.url}/real.png`;
      this.real.hidden = false;
      this.realCaption.textContent = "Real training images";
    }
    if (!grids.length) return;
    const following = Number(this.scrub.value) === this.grids.length - 1 || !this.grids.length;
    this.grids.push(...grids);
    this.scrub.max = this.grids.length - 1;
    this.scrubLabel.hidden = this.grids.length < 2;
    if (following) this.scrub.value = this.grids.length - 1;
    this.showGrid(Number(this.scrub.value));
  }

  showGrid(index) {
    const grid = this.grids[index];
    this.grid.src = `${this.url}/grid/${grid.index}.png`;
    this.grid.hidden = false;
    this.gridCaption.textContent = grid.caption;
    this.scrubShown.textContent = ` ${grid.label}`;
    this.showScore();
  }

  addScores(answer) {
    this.scores.push(...answer.scores);
    if (!this.scores.length) return;
    this.qualityCaption.hidden = false;
    if (!this.qualityCharts) {
      this.qualityCharts = [element(this.qualityRow, "div"), element(this.qualityRow, "div")];
    }
    if (answer.frechet) this.drawQuality(0, answer.frechet);
    if (answer.diversity) this.drawQuality(1, answer.diversity);
    if (answer.scores.length) this.showScore();
  }

  drawQuality(index, figure) {
    // Drawn once on screen (drawPending): a newer figure replaces one not drawn yet.
    this.qualityFigures = this.qualityFigures || [null, null];
    this.qualityFigures[index] = figure;
  }

  showScore() {
    // The meter's figures for the grid shown above: its epoch's score, else the newest.
    if (!this.scores.length) return;
    const shown = this.grids[Number(this.scrub.value)];
    const score = this.scores.find((s) => shown && s.step === shown.step) || this.scores[this.scores.length - 1];
    this.quality.textContent = score.summary;
    if (score.histogram && score !== this.histogramShown) {
      this.histogramShown = score;
      this.drawQuality(1, score.histogram);
    }
  }
}

export default function (component) {
  const {data, parentElement, setTriggerValue} = component;
  const view = parentElement.ganStudioLiveView;
  if (view && view.token === data.token) {
    view.update(data);
    if (!ENDED.includes(data.state)) view.poll(); // a new refresh period takes effect now
  } else {
    if (view) { view.stop(); view.root.remove(); }
    parentElement.ganStudioLiveView = new LiveView(parentElement, data, setTriggerValue);
  }
  return () => parentElement.ganStudioLiveView && parentElement.ganStudioLiveView.stop();
}
